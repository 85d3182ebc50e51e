"""A trap: the batch grader must never run this file."""

open("/tmp/grader-hostile-trap-ran", "a").write(__file__ + "\n")
raise RuntimeError("hostile trap ran: " + __file__)
