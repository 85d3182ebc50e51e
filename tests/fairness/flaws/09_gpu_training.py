"""Realistic flaws in the fairness implementations of 09_gpu_training: each must lose points, with a true hint."""

FLAWS = [
    # (style, what the student did wrong, (old, new) edits applied to the style's module, the check that
    #  must fail, the hint that is true for this flaw or None when no hint should name a cause)
    ("d2l", "the book's try_gpu as written: CUDA or the CPU, never Apple's MPS",
     [("    if torch.backends.mps.is_available():\n        return torch.device('mps')\n", "")],
     "test_get_device_order",
     "when CUDA is not available, ask torch.backends.mps.is_available() before falling back to the CPU"),
    ("d2l", "the book's Accumulator, float(b) on every add: one GPU-to-CPU copy per batch",
     [("self.data = [a + b for a, b in zip(self.data, args)]",
       "self.data = [a + float(b) for a, b in zip(self.data, args)]")],
     "test_train_one_epoch_keeps_the_running_loss_on_the_device",
     "every .item(), float(tensor) or `if tensor ...` in the loop makes the CPU wait for the GPU"),
    ("d2l", "train_ch6's net.apply(init_weights) kept in fit: the model it is given is re-initialised (Xavier)",
     [("    print('training on', device)\n",
       "    def init_weights(m):\n"
       "        if type(m) == nn.Linear or type(m) == nn.Conv2d:\n"
       "            nn.init.xavier_uniform_(m.weight)\n"
       "    net.apply(init_weights)\n"
       "    print('training on', device)\n")],
     "test_fit_trains_the_model_it_is_given",
     "fit trains the model it is given: do not re-initialise its weights"),
    ("pytorch_tutorials", "the tutorial's general checkpoint, a dict with 'model_state_dict', 'optimizer_state_dict', "
                          "'epoch' and 'loss', saved instead of the state_dict",
     [('torch.save(model.state_dict(), checkpoint_path / f"epoch_{epoch}.pt")',
       'torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),\n'
       '                        "optimizer_state_dict": optimizer.state_dict(), "loss": train_loss},\n'
       '                       checkpoint_path / f"epoch_{epoch}.pt")')],
     "test_fit_checkpoints_state_dict_every_epoch",
     "save model.state_dict() itself, not a dict that holds it under 'model_state_dict'"),
    ("pytorch_tutorials", "the quickstart's test loop reports the accuracy in percent, as it prints it",
     [("(correct / size).item()", "(100 * correct / size).item()")],
     "test_evaluate_returns_mean_loss_and_accuracy",
     "a fraction in [0, 1], not a percentage"),
    ("notes", "the notes' running_loss += loss.item() per batch, divided by the number of batches",
     [("running_loss += loss.detach() * target.size(0)  # stays on the device", "running_loss += loss.item()"),
      ("return (running_loss / total).item()", "return running_loss / len(train_loader)")],
     "test_train_one_epoch_returns_mean_loss_per_sample",
     "a mean of the batch means over-weights the short last batch"),
    ("notes", "the notes' MNIST optimizer, SGD with momentum=0.5, instead of the README's momentum=0.9",
     [("momentum=0.9", "momentum=0.5")],
     "test_fit_uses_sgd_with_momentum",
     "torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)"),
]
