"""Nothing under tests/hostile/ is a test of ours: these are students' submissions, some with traps named
conftest.py or test_*.py that the batch grader must never run. Keep pytest from collecting (and so from
importing) any of them."""

collect_ignore_glob = ["*"]
