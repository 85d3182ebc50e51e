"""`python -m grader.batch SUBMISSIONS --out OUT ...`: the same as `grader batch`."""

from grader.commands.batch import run

run()
