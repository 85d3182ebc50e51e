"""`python -m grader.batch SUBMISSIONS --out OUT ...`: the same as `grader batch`, with a lighter parent process."""

from grader.commands.batch import run

run()
