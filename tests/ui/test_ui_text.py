"""The status words every view shares: said once, never twice."""

from __future__ import annotations

from sm_notebook.ui.text import instances_text, status_words


def test_the_secondary_status_is_shown_only_where_it_adds_to_the_status():
    assert status_words("Completed", "Completed") == "Completed"
    assert status_words("InProgress", "Training") == "InProgress (Training)"
    assert status_words("Failed", "") == "Failed"


def test_one_local_instance_is_not_named_after_the_mode_again():
    assert instances_text("local", "local", 1) == ""
    assert instances_text("local", "local", 2) == "× 2"
    assert instances_text("container", "ml.m5.xlarge", 2) == "ml.m5.xlarge × 2"
