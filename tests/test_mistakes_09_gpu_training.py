"""Realistic mistakes in 09_gpu_training's gpu_training.py must cost the checks about them, each with the hint of its
cause, on a machine without a GPU too."""

import pytest

from grader.testing import assert_hint, failed_checks

TRAIN_MOVE = "        inputs, targets = inputs.to(device), targets.to(device)\n"
EVAL_MOVE = "            images, labels = images.to(device), labels.to(device)\n"
NO_GRAD = "    with torch.no_grad():\n"
CUDA_FIRST = '    if torch.cuda.is_available():\n        return torch.device("cuda")\n'
MPS_NEXT = '    if torch.backends.mps.is_available():\n        return torch.device("mps")\n'
OPTIMIZER = "torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)"
ORDER = "CUDA first, then MPS (torch.backends.mps.is_available()), then the CPU"
HOST_READS = "every .item(), float(tensor) or `if tensor ...` in the loop makes the CPU wait for the GPU"
MEAN_OF_MEANS = "a mean of the batch means over-weights the short last batch"

# mistake: ((old, new) edits of the reference, {check that must fail: the hint each failing case of it must show,
# None for no hint}); a check named with its parameters ("test_x[a]") stands for that case only.
MISTAKES = {
    # where the tensors live
    "inputs left where the loader put them": (
        [(TRAIN_MOVE, "        targets = targets.to(device)\n")],
        {"test_train_one_epoch_moves_inputs_and_targets": "inputs = inputs.to(device)"}),
    "targets left where the loader put them": (
        [(TRAIN_MOVE, "        inputs = inputs.to(device)\n")],
        {"test_train_one_epoch_moves_inputs_and_targets": "targets = targets.to(device)"}),
    "result of .to() thrown away": (
        [(TRAIN_MOVE, "        inputs.to(device), targets.to(device)\n")],
        {"test_train_one_epoch_moves_inputs_and_targets": "use what .to() returns"}),
    "evaluate leaves the labels behind": (
        [(EVAL_MOVE, "            images = images.to(device)\n")],
        {"test_evaluate_moves_inputs_and_targets": "targets = targets.to(device)"}),
    "fit never moves the model": ([("    model.to(device)\n", "")],
                                  {"test_fit_moves_model_to_device": "model.to(device)"}),
    # choosing the device
    "device chooser ignores CUDA": (
        [(CUDA_FIRST, "")],
        {"test_get_device_prefers_cuda": "ask torch.cuda.is_available() first",
         "test_get_device_order[cuda+mps]": "MPS was chosen over CUDA", "test_get_device_order[cuda]": ORDER}),
    "MPS asked before CUDA": (
        [(CUDA_FIRST + MPS_NEXT, MPS_NEXT + CUDA_FIRST)],
        {"test_get_device_order[cuda+mps]": "MPS was chosen over CUDA: ask torch.cuda.is_available() first"}),
    "MPS forgotten": ([(MPS_NEXT, "")], {"test_get_device_order[mps]": "ask torch.backends.mps.is_available()"}),
    # the model
    "a ReLU the notes do not have": (
        [("self.pool(self.conv1(x))", "self.pool(torch.relu(self.conv1(x)))")],
        {"test_tiny_cifar_net_is_the_notes_model": "no activation function"}),
    "ReLUs after every stage and fc1": (
        [("x = self.pool(self.conv1(x))", "x = torch.relu(self.pool(self.conv1(x)))"),
         ("x = self.pool(self.conv2(x))", "x = torch.relu(self.pool(self.conv2(x)))"),
         ("x = self.pool(self.conv3(x))", "x = torch.relu(self.pool(self.conv3(x)))"),
         ("self.fc2(self.fc1(x.flatten(1)))", "self.fc2(torch.relu(self.fc1(x.flatten(1))))")],
        {"test_tiny_cifar_net_is_the_notes_model": "no activation function"}),
    # evaluation
    "no eval mode": ([("    model.eval()\n", "")], {"test_evaluate_uses_eval_mode_and_no_grad": "model.eval()"}),
    "gradients kept during evaluation": (
        [(NO_GRAD, "    if True:\n")], {"test_evaluate_uses_eval_mode_and_no_grad": "torch.no_grad()"}),
    "autograd switched off for good": (
        [(NO_GRAD, "    torch.set_grad_enabled(False)\n    if True:\n")],
        {"test_evaluate_leaves_grad_mode_and_parameters_alone": "not torch.set_grad_enabled(False)"}),
    "accuracy as a count": (
        [("(correct / count).item()", "correct.item()")],
        {"test_evaluate_returns_mean_loss_and_accuracy": "that is the number of correct predictions"}),
    "accuracy in percent": (
        [("(correct / count).item()", "(100 * correct / count).item()")],
        {"test_evaluate_returns_mean_loss_and_accuracy": "not a percentage"}),
    "evaluate's loss as a mean of the batch means": (
        [("total_loss += loss_fn(outputs, labels) * len(labels)", "total_loss += loss_fn(outputs, labels)"),
         ("return (total_loss / count).item(), (correct / count).item()",
          "return (total_loss / len(loader)).item(), (correct / count).item()")],
        {"test_evaluate_returns_mean_loss_and_accuracy": MEAN_OF_MEANS}),
    "a copy to the host per batch in evaluate": (
        [("(outputs.argmax(dim=1) == labels).sum()", "(outputs.argmax(dim=1) == labels).sum().item()")],
        {"test_evaluate_keeps_the_running_sums_on_the_device": "in tensors on the device"}),
    # training
    "train mode never restored": ([("    model.train()\n", "")],
                                  {"test_train_one_epoch_sets_train_mode": "model.train()"}),
    "gradients never zeroed": (
        [("        optimizer.zero_grad()\n", "")],
        {"test_train_one_epoch_zeroes_gradients_and_steps_every_batch": "the gradients of earlier batches add up"}),
    "gradients zeroed between backward and step": (
        [("        optimizer.zero_grad()\n", ""),
         ("        loss.backward()\n", "        loss.backward()\n        optimizer.zero_grad()\n")],
        {"test_train_one_epoch_zeroes_gradients_and_steps_every_batch":
         "optimizer.zero_grad(), then loss.backward(), then optimizer.step()"}),
    "mean of the batch means": (
        [("loss.detach() * len(targets)", "loss.detach()"), ("count += len(targets)", "count += 1")],
        {"test_train_one_epoch_returns_mean_loss_per_sample": MEAN_OF_MEANS}),
    "a copy to the host per batch": (
        [("total_loss += loss.detach() * len(targets)", "total_loss += loss.item() * len(targets)")],
        {"test_train_one_epoch_keeps_the_running_loss_on_the_device": HOST_READS}),
    "fit never steps": (
        [("        optimizer.step()\n", "")],
        {"test_fit_reaches_accuracy_on_shapes10": "zero_grad, backward and step every batch"}),
    # fit's optimizer and the model it is given
    "fit re-initialises the model": (
        [("    model.to(device)\n", "    model.to(device)\n    for m in model.modules():\n"
                                   "        if isinstance(m, (nn.Linear, nn.Conv2d)):\n"
                                   "            m.reset_parameters()\n")],
        {"test_fit_trains_the_model_it_is_given": "do not re-initialise its weights"}),
    "the learning rate hard-coded": (
        [(OPTIMIZER, "torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)")],
        {"test_fit_trains_the_model_it_is_given": "pass fit's lr to the optimizer",
         "test_fit_uses_sgd_with_momentum": OPTIMIZER}),
    "no momentum": ([(OPTIMIZER, "torch.optim.SGD(model.parameters(), lr=lr)")],
                    {"test_fit_uses_sgd_with_momentum": OPTIMIZER}),
    "Adam instead of SGD": ([(OPTIMIZER, "torch.optim.Adam(model.parameters(), lr=lr)")],
                            {"test_fit_uses_sgd_with_momentum": OPTIMIZER}),
    # logging and checkpoints
    "the whole model pickled": (
        [("torch.save(model.state_dict(), ", "torch.save(model, ")],
        {"test_fit_checkpoints_state_dict_every_epoch": "not the model object"}),
    "the tutorial's general checkpoint": (
        [("torch.save(model.state_dict(), ", "torch.save({'epoch': epoch, 'model_state_dict': model.state_dict()}, ")],
        {"test_fit_checkpoints_state_dict_every_epoch": "not a dict that holds it under 'model_state_dict'"}),
    "one checkpoint file overwritten every epoch": (
        [('f"epoch_{epoch}.pt"', '"last.pt"')], {"test_fit_checkpoints_state_dict_every_epoch": "every epoch"}),
    "scalars logged without a step": (
        [("train_loss, epoch)", "train_loss)"), ("test_loss, epoch)", "test_loss)"),
         ("test_accuracy, epoch)", "test_accuracy)")],
        {"test_fit_writes_tensorboard_scalars": "use the epoch as the step"}),
}


def _cases(report, check):
    """The results of `check`: one case if it names its parameters, else all its cases."""
    return [r for r in report.checks if (r.name == check if "[" in check else r.name.split("[")[0] == check)]


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_its_hint(grade_mutant, mistake):
    edits, hints = MISTAKES[mistake]
    report = grade_mutant("09_gpu_training", *edits, checks=sorted({check.split("[")[0] for check in hints}))
    for check, hint in hints.items():
        cases = _cases(report, check)
        failed = [r for r in cases if r.outcome not in ("passed", "skipped")]
        assert failed, f"{mistake!r} did not fail {check}"
        for result in failed:
            assert_hint(result.message, hint, f"{mistake!r}: {check}")
    assert report.total < report.max_total


def test_torch_accelerator_is_a_way_to_ask(grade_mutant):
    # The newer tutorials' device line asks torch.accelerator, which asks CUDA or MPS for us.
    report = grade_mutant("09_gpu_training", (
        CUDA_FIRST + MPS_NEXT + '    return torch.device("cpu")\n',
        '    return torch.device(torch.accelerator.current_accelerator().type\n'
        '                        if torch.accelerator.is_available() else "cpu")\n'),
        checks=["test_get_device_prefers_cuda", "test_get_device_order"])
    assert not failed_checks(report), [c.message for c in report.checks]
