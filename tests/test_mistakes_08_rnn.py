"""Realistic mistakes in 08_rnn's rnn.py must cost points."""

import pytest

from grader.testing import failed_checks

DRAW = "    rng = np.random.default_rng(seed)  # a private generator: the global random state is left alone\n"
BITS = "    bits = rng.integers(0, 2, size=(n_samples, seq_length))\n"
MISTAKES = {
    "seed ignored": ((DRAW, "    rng = np.random.default_rng()\n"), "test_make_counting_data_is_reproducible"),
    "global generator reseeded": (
        (DRAW + BITS, "    np.random.seed(seed)\n    bits = np.random.randint(0, 2, size=(n_samples, seq_length))\n"),
        "test_make_counting_data_leaves_the_global_random_state_alone",
    ),
    "counts as integers": (("y = X.sum(dim=(1, 2))", "y = torch.from_numpy(bits.sum(axis=1))"),
                           "test_make_counting_data_values"),
    "hidden-to-hidden bias forgotten": (("h_prev @ w_hh.T + b_hh)", "h_prev @ w_hh.T)"),
                                        "test_rnn_cell_matches_nn_rnn_cell"),
    "W_hh not transposed": (("h_prev @ w_hh.T", "h_prev @ w_hh"), "test_rnn_cell_matches_nn_rnn_cell"),
    "relu instead of tanh": (("return torch.tanh(", "return torch.relu("), "test_rnn_cell_matches_nn_rnn_cell"),
    "h not carried between steps": (("h = rnn_cell(x[:, t], h, ", "h = rnn_cell(x[:, t], h0[0], "),
                                    "test_rnn_forward_matches_nn_rnn"),
    "h_n without the layer dim": (("torch.stack(outputs, dim=1), h.unsqueeze(0)", "torch.stack(outputs, dim=1), h"),
                                  "test_rnn_forward_matches_nn_rnn"),
    "PyTorch's RNN kernel instead of the loop": (
        ("    h = h0[0]\n",
         "    return torch.rnn_tanh(x, h0, (w_ih, w_hh, b_ih, b_hh), True, 1, 0.0, False, False, True)\n"),
        "test_rnn_forward_matches_nn_rnn",
    ),
    "reads the first time step": (("self.fc(out[:, -1])", "self.fc(out[:, 0])"),
                                  "test_simple_rnn_reads_the_last_time_step"),
    "averages over the time steps": (("self.fc(out[:, -1])", "self.fc(out.mean(dim=1))"),
                                     "test_simple_rnn_reads_the_last_time_step"),
    "unscaled targets": (("scale = X.shape[1]", "scale = 1"), "test_train_counter_counts_held_out_sequences"),
    "scale not folded back": (
        ("        model.fc.weight.mul_(scale)\n        model.fc.bias.mul_(scale)\n", "        pass\n"),
        "test_train_counter_counts_held_out_sequences",
    ),
    "full-batch updates (the notes' recipe)": (("lr, batch_size=32):", "lr, batch_size=1000):"),
                                               "test_train_counter_counts_held_out_sequences"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_mistake_loses_points(grade_mutant, mistake):
    edit, check = MISTAKES[mistake]
    report = grade_mutant("08_rnn", edit)
    assert check in failed_checks(report), f"{mistake!r} did not fail {check}"
    assert report.total < report.max_total
