"""Realistic mistakes in 08_rnn's rnn.py must cost the checks about them, each with the hint of its cause."""

import pytest

from grader.testing import assert_hint, failed_checks

DRAW = "    rng = np.random.default_rng(seed)  # a private generator: the global random state is left alone\n"
BITS = "    bits = rng.integers(0, 2, size=(n_samples, seq_length))\n"
STEP = "        h = rnn_cell(x[:, t], h, w_ih, w_hh, b_ih, b_hh)  # the new state feeds the next step\n"
FOLD = "        model.fc.weight.mul_(scale)\n        model.fc.bias.mul_(scale)\n"
CELL = ("test_rnn_cell_one_step", "test_rnn_cell_matches_nn_rnn_cell")
FORWARD = ("test_rnn_forward_on_a_short_sequence", "test_rnn_forward_matches_nn_rnn")
LAST_STEP = "test_simple_rnn_reads_the_last_time_step"
FOLDED = "test_train_counter_folds_the_scale_into_fc"
MSE = "test_train_counter_counts_held_out_sequences"


def _each(checks, hint):
    return {check: hint for check in checks}


# mistake: ((old, new) edits of the reference, {check that must fail: the hint it must show, None for no hint})
MISTAKES = {
    # make_counting_data
    "seed ignored": (
        [(DRAW, "    rng = np.random.default_rng()\n")],
        {"test_make_counting_data_is_reproducible": "build a new generator from `seed` in every call"}),
    "global generator reseeded": (
        [(DRAW + BITS, "    np.random.seed(seed)\n    bits = np.random.randint(0, 2, size=(n_samples, seq_length))\n")],
        {"test_make_counting_data_leaves_the_global_random_state_alone": "use a private generator"}),
    "counts as integers": (
        [("y = X.sum(dim=(1, 2))", "y = torch.from_numpy(bits.sum(axis=1))")],
        {"test_make_counting_data_dtypes": "convert with .float()"}),
    "data in float64": (
        [("X = torch.from_numpy(bits).float().unsqueeze(-1)", "X = torch.from_numpy(bits).double().unsqueeze(-1)")],
        {"test_make_counting_data_dtypes": "convert with .float()"}),
    "no feature dim": (
        [("X = torch.from_numpy(bits).float().unsqueeze(-1)", "X = torch.from_numpy(bits).float()"),
         ("y = X.sum(dim=(1, 2))", "y = X.sum(dim=1)")],
        _each(("test_make_counting_data_shapes", "test_make_counting_data_values"), "add the feature dim")),
    # rnn_cell
    "hidden-to-hidden bias forgotten": (
        [("h_prev @ w_hh.T + b_hh)", "h_prev @ w_hh.T)")], _each(CELL, "both biases count: add b_ih and b_hh")),
    "input-to-hidden bias forgotten": (
        [("x_t @ w_ih.T + b_ih + ", "x_t @ w_ih.T + ")], _each(CELL, "both biases count: add b_ih and b_hh")),
    "W_hh not transposed": ([("h_prev @ w_hh.T", "h_prev @ w_hh")],
                            _each(CELL, "h_prev @ w_hh.T: like a Linear weight")),
    "relu instead of tanh": ([("return torch.tanh(", "return torch.relu(")], _each(CELL, "non-linearity is tanh")),
    "no tanh": ([("return torch.tanh(x_t @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh)",
                  "return x_t @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh")], _each(CELL, "apply tanh to the sum")),
    # rnn_forward
    "h not carried between steps": (
        [("h = rnn_cell(x[:, t], h, ", "h = rnn_cell(x[:, t], h0[0], ")],
        _each(FORWARD, "each step must start from the hidden state the previous step produced")),
    "the loop starts from zeros": (
        [("    h = h0[0]\n", "    h = torch.zeros_like(h0[0])\n")],
        _each(FORWARD, "the first step starts from h0[0], not from zeros")),
    "outputs one step late": (
        [(STEP + "        outputs.append(h)\n", "        outputs.append(h)\n" + STEP)],
        _each(FORWARD, "output[:, t] is the state after step t")),
    "states stacked time first": (
        [("torch.stack(outputs, dim=1), h.unsqueeze(0)", "torch.stack(outputs, dim=0), h.unsqueeze(0)")],
        {"test_rnn_forward_on_a_short_sequence": "batch_first: stack the states on dim 1",
         "test_rnn_forward_matches_nn_rnn": "batch_first: stack the states on dim 1"}),
    "h_n without the layer dim": (
        [("torch.stack(outputs, dim=1), h.unsqueeze(0)", "torch.stack(outputs, dim=1), h")],
        _each(FORWARD, "h_n keeps nn.RNN's leading num_layers dim")),
    "h detached between steps": (
        [("h = rnn_cell(x[:, t], h, ", "h = rnn_cell(x[:, t], h.detach(), ")],
        {"test_rnn_forward_matches_nn_rnn": "detach"}),
    "PyTorch's RNN kernel instead of the loop": (
        [("    h = h0[0]\n",
          "    return torch.rnn_tanh(x, h0, (w_ih, w_hh, b_ih, b_hh), True, 1, 0.0, False, False, True)\n")],
        {"test_rnn_forward_matches_nn_rnn": None}),
    # SimpleRNN
    "reads the first time step": ([("self.fc(out[:, -1])", "self.fc(out[:, 0])")],
                                  {LAST_STEP: "that is fc of the FIRST step's state"}),
    "averages over the time steps": ([("self.fc(out[:, -1])", "self.fc(out.mean(dim=1))")],
                                     {LAST_STEP: "the average over the steps"}),
    "fc on the whole h_n": (
        [("out, _ = self.rnn(x)  #", "_, out = self.rnn(x)  #"), ("self.fc(out[:, -1])", "self.fc(out)")],
        _each(("test_simple_rnn_output_shape", LAST_STEP), "h_n has a leading num_layers dim")),
    # train_counter
    "unscaled targets": (
        [("scale = X.shape[1]", "scale = 1")],
        {FOLDED: "fc.weight is as it was", MSE: "train against the scaled targets y / L"}),
    "scale not folded back": (
        [(FOLD, "        pass\n")],
        {FOLDED: "fc.weight is as it was", MSE: "the counts divided by L: multiply fc's weight and bias by L"}),
    "bias not folded": ([(FOLD, "        model.fc.weight.mul_(scale)\n")],
                        {FOLDED: "multiply fc's bias by L as well as its weight"}),
    "L hard-coded as the data's 10": ([("scale = X.shape[1]", "scale = 10")],
                                      {FOLDED: "L is the sequence length X.shape[1] (7 here), not 10"}),
    "full-batch updates (the notes' recipe)": (
        [("lr, batch_size=32):", "lr, batch_size=1000):")], {MSE: "optimizer steps in 5 epochs"}),
    "plain SGD instead of Adam": ([("torch.optim.Adam(", "torch.optim.SGD(")],
                                  {MSE: "train with torch.optim.Adam(model.parameters(), lr=lr)"}),
    "gradients never zeroed": ([("            optimizer.zero_grad()\n", "")],
                               {MSE: "call optimizer.zero_grad() every batch"}),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_costs_its_checks_with_its_hint(grade_mutant, mistake):
    edits, hints = MISTAKES[mistake]
    report = grade_mutant("08_rnn", *edits, checks=list(hints))
    failed = failed_checks(report)
    for check, hint in hints.items():
        assert check in failed, f"{mistake!r} did not fail {check}"
        for result in report.checks:
            if result.name.split("[")[0] != check or result.outcome == "passed":
                continue
            assert_hint(result.message, hint, f"{mistake!r}: {check}")


def test_a_float32_buffer_in_rnn_forward_is_not_a_mistake(grade_mutant):
    # The notes preallocate torch.zeros(N, L, hidden): float32 whatever x is. The values are right.
    report = grade_mutant("08_rnn", (
        "    outputs = []\n    for t in range(x.shape[1]):\n" + STEP + "        outputs.append(h)\n"
        "    return torch.stack(outputs, dim=1), h.unsqueeze(0)\n",
        "    output = torch.zeros(x.shape[0], x.shape[1], w_hh.shape[0])\n    for t in range(x.shape[1]):\n" + STEP
        + "        output[:, t] = h\n    return output, h.unsqueeze(0)\n"), checks=list(FORWARD))
    assert not failed_checks(report), [c.message for c in report.checks]
