"""Realistic mistakes in 09_gpu_training's gpu_training.py must cost points, on a machine without a GPU too."""

import pytest

from grader.testing import failed_checks

TRAIN_MOVE = "        inputs, targets = inputs.to(device), targets.to(device)\n"
EVAL_MOVE = "            images, labels = images.to(device), labels.to(device)\n"
NO_GRAD = "    with torch.no_grad():\n"
CUDA_FIRST = '    if torch.cuda.is_available():\n        return torch.device("cuda")\n'
MPS_NEXT = '    if torch.backends.mps.is_available():\n        return torch.device("mps")\n'

MISTAKES = {
    # where the tensors live
    "inputs left where the loader put them": (
        ((TRAIN_MOVE, "        targets = targets.to(device)\n"),), "test_train_one_epoch_moves_inputs_and_targets"),
    "targets left where the loader put them": (
        ((TRAIN_MOVE, "        inputs = inputs.to(device)\n"),), "test_train_one_epoch_moves_inputs_and_targets"),
    "result of .to() thrown away": (
        ((TRAIN_MOVE, "        inputs.to(device), targets.to(device)\n"),),
        "test_train_one_epoch_moves_inputs_and_targets"),
    "evaluate leaves the labels behind": (
        ((EVAL_MOVE, "            images = images.to(device)\n"),), "test_evaluate_moves_inputs_and_targets"),
    "fit never moves the model": ((("    model.to(device)\n", ""),), "test_fit_moves_model_to_device"),
    # choosing the device
    "device chooser ignores CUDA": (((CUDA_FIRST, ""),), ("test_get_device_prefers_cuda", "test_get_device_order")),
    "MPS asked before CUDA": (((CUDA_FIRST + MPS_NEXT, MPS_NEXT + CUDA_FIRST),), "test_get_device_order"),
    # evaluation
    "no eval mode": ((("    model.eval()\n", ""),), "test_evaluate_uses_eval_mode_and_no_grad"),
    "gradients kept during evaluation": (((NO_GRAD, "    if True:\n"),), "test_evaluate_uses_eval_mode_and_no_grad"),
    "autograd switched off for good": (
        ((NO_GRAD, "    torch.set_grad_enabled(False)\n    if True:\n"),),
        "test_evaluate_leaves_grad_mode_and_parameters_alone"),
    "accuracy as a count": (
        (("(correct / count).item()", "correct.item()"),), "test_evaluate_returns_mean_loss_and_accuracy"),
    # training
    "train mode never restored": ((("    model.train()\n", ""),), "test_train_one_epoch_sets_train_mode"),
    "gradients never zeroed": (
        (("        optimizer.zero_grad()\n", ""),), "test_train_one_epoch_zeroes_gradients_and_steps_every_batch"),
    "mean of the batch means": (
        (("loss.detach() * len(targets)", "loss.detach()"), ("count += len(targets)", "count += 1")),
        "test_train_one_epoch_returns_mean_loss_per_sample"),
    "a ReLU the notes do not have": (
        (("self.pool(self.conv1(x))", "self.pool(torch.relu(self.conv1(x)))"),),
        "test_tiny_cifar_net_is_the_notes_model"),
    "fit never steps": ((("        optimizer.step()\n", ""),), "test_fit_reaches_accuracy_on_shapes10"),
    # logging and checkpoints
    "the whole model pickled": (
        (("torch.save(model.state_dict(), ", "torch.save(model, "),), "test_fit_checkpoints_state_dict_every_epoch"),
    "one checkpoint file overwritten every epoch": (
        (('f"epoch_{epoch}.pt"', '"last.pt"'),), "test_fit_checkpoints_state_dict_every_epoch"),
    "scalars logged without a step": (
        (("train_loss, epoch)", "train_loss)"), ("test_loss, epoch)", "test_loss)"),
         ("test_accuracy, epoch)", "test_accuracy)")),
        "test_fit_writes_tensorboard_scalars"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edits, checks = MISTAKES[mistake]
    report = grade_mutant("09_gpu_training", *edits)
    for check in (checks,) if isinstance(checks, str) else checks:
        assert check in failed_checks(report), f"{mistake!r} did not fail {check}"
    assert report.total < report.max_total
