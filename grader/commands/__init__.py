"""One module per `grader` subcommand."""
