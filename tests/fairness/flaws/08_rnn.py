"""Realistic flaws in the fairness implementations of 08_rnn: each must lose points, with a true hint."""

FLAWS = [
    # (style, what the student did wrong, (old, new) edits applied to the style's module, the check that
    #  must fail, the hint that is true for this flaw or None when no hint should name a cause)
    ("d2l", "the final state returned as the book's state tuple (H,) instead of a (1, N, hidden) tensor",
     [("permute(1, 0, 2), H.unsqueeze(0)", "permute(1, 0, 2), (H,)")],
     "test_rnn_forward_matches_nn_rnn",
     "h_n is the last hidden state, a tensor of shape (1, N, hidden) as nn.RNN returns it"),
    ("d2l", "plain SGD as the book's train_ch8 updater instead of Adam",
     [("updater = torch.optim.Adam(model.parameters(), lr=lr)",
       "updater = torch.optim.SGD(model.parameters(), lr=lr)")],
     "test_train_counter_counts_held_out_sequences",
     "train with torch.optim.Adam(model.parameters(), lr=lr)"),
    ("pytorch_tutorials", "fc applied to nn.RNN's whole h_n (num_layers, N, hidden) instead of h_n[0]",
     [("return self.fc(hidden[0])", "return self.fc(hidden)")],
     "test_simple_rnn_output_shape",
     "h_n has a leading num_layers dim: use h_n[-1] (or output[:, -1]) before fc"),
    ("pytorch_tutorials", "optimizer.zero_grad() dropped from the quickstart loop: gradients add up over batches",
     [("        optimizer.step()\n        optimizer.zero_grad()\n", "        optimizer.step()\n")],
     "test_train_counter_counts_held_out_sequences",
     "optimizer.zero_grad() every batch"),
    ("notes", "the notes' generate_data as written: np.random.seed(seed) and the global np.random.randint",
     [("rng = np.random.default_rng(seed)", "np.random.seed(seed)"),
      ("seq = rng.integers(0, 2, size=seq_length)", "seq = np.random.randint(0, 2, size=seq_length)")],
     "test_make_counting_data_leaves_the_global_random_state_alone",
     "use a private generator: np.random.default_rng(seed) or torch.Generator().manual_seed(seed)"),
    # The MSE bar caught it at seeds 1, 3 and 5 only; the fold check, at every seed.
    ("notes", "only fc's weight multiplied by L: the bias still predicts in units of count / L",
     [("    model.fc.bias.data = model.fc.bias.data * seq_length\n", "")],
     "test_train_counter_folds_the_scale_into_fc",
     "multiply fc's bias by L as well as its weight"),
    ("notes", "the notes' recipe on raw counts: targets not divided by L, and so nothing to fold back",
     [("TensorDataset(X, y / seq_length)", "TensorDataset(X, y)"),
      ("    model.fc.weight.data = model.fc.weight.data * seq_length\n"
       "    model.fc.bias.data = model.fc.bias.data * seq_length\n", "")],
     "test_train_counter_counts_held_out_sequences",
     "train against the scaled targets y / L (0 to 1), not the raw counts"),
]
