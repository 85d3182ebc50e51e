"""Hidden checks of 03_regression: graded by the instructor, never shipped to students."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from grader.checks import (
    Mistake,
    expect,
    expect_at_least,
    expect_close,
    expect_equal,
    expect_shape,
    expect_tensor,
    expect_type,
    fail,
    parameter_count,
    public_checks,
)
from grader.data import breast_cancer_path
from grader.i18n import _

# The diagnoses are the public checks' own.
public = public_checks(__file__)

ACCURACY_BAR = 0.90  # held-out accuracy; the reference reaches 0.96 to 0.98 over seeds (majority class: 0.62)
REPLAY = dict(rtol=1e-4, atol=1e-6)  # a few float32 SGD steps replayed


# --- what the models should give, and what common mistakes make them give -----------------------------


def _close(got, want):
    return bool(torch.allclose(torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(want, dtype=torch.float64),
                               rtol=REPLAY["rtol"], atol=REPLAY["atol"]))


def _step_mistakes(loss):
    """The mistakes a replay of SGD steps on `loss` recognises, each as (hint, the keywords of the run it gives)."""
    return [
        (_("the gradient of the summed loss: keep {loss}'s default reduction='mean', not 'sum'").format(loss=loss),
         dict(reduction="sum")),
        (_("the gradients were not zeroed: backward() adds to .grad, so call optimizer.zero_grad() before every "
           "backward()"), dict(accumulate=True)),
        (_("the parameters did not change: call optimizer.step() after loss.backward(), with no zero_grad() between "
           "them"), dict(step=False)),
    ]


def _linear_regression_run(x, y, w, b, lr, epochs, reduction="mean", accumulate=False, step=True):
    """(w, b) after `epochs` full-batch SGD steps on the MSE, by hand in float64; the keywords make mistakes."""
    xs, ys = x.double().reshape(-1), y.double().reshape(-1)
    scale = len(xs) if reduction == "sum" else 1
    grad_w = grad_b = 0.0
    for _epoch in range(epochs):
        error = w * xs + b - ys
        dw, db = scale * float((2 * error * xs).mean()), scale * float((2 * error).mean())
        grad_w, grad_b = (grad_w + dw, grad_b + db) if accumulate else (dw, db)
        if step:
            w, b = w - lr * grad_w, b - lr * grad_b
    return w, b


def _classifier_run(model, batches, lr, epochs, reduction="mean", accumulate=False, step=True):
    """A copy of `model` after SGD on BCE over `batches`; the keywords make mistakes."""
    model = copy.deepcopy(model)
    params = list(model.parameters())
    grads = [torch.zeros_like(p) for p in params]
    for _epoch in range(epochs):
        for xb, yb in batches:
            new = torch.autograd.grad(F.binary_cross_entropy(model(xb), yb, reduction=reduction), params)
            grads = [g + n for g, n in zip(grads, new)] if accumulate else list(new)
            if step:
                with torch.no_grad():
                    for p, g in zip(params, grads):
                        p -= lr * g
    return model


def _standardized_split():
    """The fixed split (400 rows to train on, 169 held out), each feature standardised with the training rows."""
    table = np.loadtxt(breast_cancer_path(), delimiter=",")
    order = np.random.default_rng(2024).permutation(len(table))
    train, test = table[order[:400]].copy(), table[order[400:]].copy()
    mean, std = train[:, :-1].mean(axis=0), train[:, :-1].std(axis=0)
    for part in (train, test):
        part[:, :-1] = (part[:, :-1] - mean) / std
    return train, test


def _write_csv(path, table):
    np.savetxt(path, table, delimiter=",", fmt="%.8g")
    return path


# --- the checks ----------------------------------------------------------------------------------------

@pytest.mark.points(1)
def test_linear_model_is_w_x_plus_b(student):
    model = student.LinearModel()
    expect_equal(parameter_count(model), 2, _("LinearModel's parameter count"), hint=_("one weight and one bias"))
    x = torch.randn(6, 1)
    got = model(x.clone())
    w, b = model.linear.weight, model.linear.bias
    with torch.no_grad():
        expect_tensor(got, x * w.reshape(()) + b.reshape(()), "LinearModel()(x of shape (6, 1))",
                      mistakes=public._linear_mistakes(model.linear, x), hint=_("x·w + b: return self.linear(x)"))
    got.sum().backward()
    expect(w.grad is not None and b.grad is not None, _("LinearModel: no gradient reaches the weight or the bias"))


@pytest.mark.points(2)
def test_train_linear_regression_takes_mean_mse_sgd_steps(student, seed):
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    y = torch.tensor([[3.0], [5.5], [7.0], [9.0]])
    lr, epochs = 0.01, 3
    # The model is built from the random state, so reseeding gives the same starting point twice.
    torch.manual_seed(seed)
    start = student.train_linear_regression(x.clone(), y.clone(), epochs=0, lr=lr)
    expect_type(start, torch.nn.Module, "train_linear_regression(..., epochs=0)", hint=_("return the LinearModel"))
    w0, b0 = start.linear.weight.item(), start.linear.bias.item()
    torch.manual_seed(seed)
    model = student.train_linear_regression(x.clone(), y.clone(), epochs=epochs, lr=lr)
    expect_type(model, torch.nn.Module, f"train_linear_regression(..., epochs={epochs})",
                hint=_("return the LinearModel"))
    got = (model.linear.weight.item(), model.linear.bias.item())
    mistakes = [Mistake(hint, lambda _v, k=k: _close(got, _linear_regression_run(x, y, w0, b0, lr, epochs, **k)))
                for hint, k in _step_mistakes("nn.MSELoss()")]
    want = _linear_regression_run(x, y, w0, b0, lr, epochs)
    hint = _("every epoch: loss = nn.MSELoss()(model(x), y), optimizer.zero_grad(), loss.backward(), optimizer.step()")
    expect_close(model.linear.weight, want[0], _("after train_linear_regression(4 points, epochs={epochs}, lr={lr}), "
                                                 "the weight").format(epochs=epochs, lr=lr),
                 **REPLAY, mistakes=mistakes, hint=hint)
    expect_close(model.linear.bias, want[1], _("after train_linear_regression(4 points, epochs={epochs}, lr={lr}), "
                                               "the bias").format(epochs=epochs, lr=lr),
                 **REPLAY, mistakes=mistakes, hint=hint)


@pytest.mark.points(2)
def test_logistic_is_sigmoid_of_linear(student):
    model = student.LogisticRegressionModel()
    x = torch.randn(64, 1) * 3
    got = model(x.clone())
    with torch.no_grad():
        expect_tensor(got, torch.sigmoid(model.linear(x)), "LogisticRegressionModel()(x of shape (64, 1))",
                      mistakes=public._probability_mistakes(model.linear(x)), hint=_("sigmoid(linear(x))"))
    expect(bool(((got > 0) & (got < 1)).all()), _("LogisticRegressionModel's outputs must lie strictly between 0 "
                                                  "and 1"))
    got.sum().backward()
    expect(model.linear.weight.grad is not None, _("LogisticRegressionModel: no gradient reaches the weight"))


@pytest.mark.points(2)
def test_tabular_dataset_reads_any_csv(student, tmp_path):
    table = np.round(np.random.randn(7, 5) * 10, 4)
    table[:, -1] = [0, 1, 1, 0, 1, 0, 0]
    path = _write_csv(tmp_path / "small.csv", table)
    expected = np.loadtxt(path, delimiter=",", dtype=np.float32)
    dataset = student.TabularDataset(str(path))
    expect_equal(len(dataset), 7, _("len(TabularDataset(a CSV of 7 rows))"), mistakes=[
        Mistake(_("the file has no header row: keep its first line"), 6)])
    for i in (0, 3, 6):
        public._expect_row(dataset, expected, i, _("TabularDataset(a CSV of 7 rows and 4 features)[{i}]").format(i=i))


@pytest.mark.points(2)
def test_tabular_dataset_batches(student):
    dataset = student.TabularDataset(breast_cancer_path())
    batches = list(DataLoader(dataset, batch_size=32))
    expect_equal(len(batches), 18, _("the number of batches of 569 rows with batch_size=32"),
                 hint=_("ceil(569 / 32): the last batch holds 25 rows"))
    features, labels = batches[0]
    expect_shape(features, (32, 30), _("a batch of features"))
    expect_shape(labels, (32, 1), _("a batch of labels"), mistakes=[
        Mistake(_("each label must have the shape (1,), so that a batch of them is (N, 1) like the model's output: "
                  "table[:, [-1]], not table[:, -1]"), (32,))])
    expect_shape(batches[-1][1], (25, 1), _("the last batch of labels"))
    expect_equal(len(DataLoader(dataset, batch_size=32, drop_last=True)), 17,
                 _("the number of batches with batch_size=32 and drop_last=True"))


@pytest.mark.points(2)
def test_multi_feature_model_layers_and_parameters(student):
    model = student.MultiFeatureModel(30)
    x = torch.randn(5, 30)
    got = model(x.clone())
    expect_shape(got, (5, 1), "MultiFeatureModel(30)(x of shape (5, 30))")
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    sizes = [(m.in_features, m.out_features) for m in layers]
    expect_equal(sizes, [(30, 6), (6, 4), (4, 1)], _("MultiFeatureModel(30)'s Linear layers (in, out)"))
    expect_equal(parameter_count(model), 219, _("MultiFeatureModel(30)'s parameter count"),
                 hint=_("(30·6 + 6) + (6·4 + 4) + (4·1 + 1)"))
    expect_equal(parameter_count(student.MultiFeatureModel(8)), 87, _("MultiFeatureModel(8)'s parameter count"),
                 hint=_("(8·6 + 6) + (6·4 + 4) + (4·1 + 1)"))
    expected, mistakes = public._multi_feature_expected(model, x)
    expect_tensor(got, expected, "MultiFeatureModel(30)(x)", mistakes=mistakes,
                  hint=_("sigmoid(linear3(sigmoid(linear2(sigmoid(linear1(x))))))"))
    got.sum().backward()
    for name, p in model.named_parameters():
        expect(p.grad is not None, _("MultiFeatureModel: no gradient reaches {name}").format(name=name))


@pytest.mark.points(3)
def test_train_classifier_takes_mean_bce_sgd_steps(student):
    x = torch.randn(12, 5)
    y = (torch.rand(12, 1) > 0.5).float()
    model = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Sigmoid(), torch.nn.Linear(3, 1), torch.nn.Sigmoid())
    start = copy.deepcopy(model)
    lr, epochs = 0.5, 2
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 12, 4)]

    def loader():
        return DataLoader(TensorDataset(x.clone(), y.clone()), batch_size=4, shuffle=False)

    untouched = student.train_classifier(copy.deepcopy(start), loader(), epochs=0, lr=lr)
    expect_type(untouched, torch.nn.Module, "train_classifier(..., epochs=0)", hint=_("return the model you trained"))
    for (name, value), want in zip(untouched.named_parameters(), start.parameters()):
        expect(torch.equal(value.detach(), want.detach()),
               _("train_classifier(..., epochs=0) changed the model's parameter {name}").format(name=name),
               hint=_("train the model you are given, from its current weights: do not re-initialise it"))
    trained = student.train_classifier(model, loader(), epochs=epochs, lr=lr)
    expect_type(trained, torch.nn.Module, "train_classifier(...)", hint=_("return the model you trained"))
    got = [p.detach().clone() for p in trained.parameters()]
    mistakes = [Mistake(hint, lambda _v, k=k: all(map(_close, got, _classifier_run(start, batches, lr, epochs,
                                                                                     **k).parameters())))
                for hint, k in _step_mistakes("nn.BCELoss()")]
    expected = _classifier_run(start, batches, lr, epochs)
    for (name, value), want in zip(trained.named_parameters(), expected.parameters()):
        what = _("after train_classifier(12 samples in batches of 4, epochs={epochs}, lr={lr}), parameter "
                 "{name}").format(epochs=epochs, lr=lr, name=name)
        expect_tensor(value, want, what, **REPLAY, mistakes=mistakes,
                      hint=_("every batch: loss = nn.BCELoss()(model(inputs), labels), optimizer.zero_grad(), "
                             "loss.backward(), optimizer.step()"))


@pytest.mark.points(4)
@pytest.mark.timeout(120)
def test_train_classifier_accuracy_on_breast_cancer(student):
    train, test = _standardized_split()
    # A model shaped like MultiFeatureModel(30) and a dataset of the check's own: only train_classifier is graded.
    model = torch.nn.Sequential(torch.nn.Linear(30, 6), torch.nn.Sigmoid(), torch.nn.Linear(6, 4), torch.nn.Sigmoid(),
                                torch.nn.Linear(4, 1), torch.nn.Sigmoid())
    features, labels = torch.from_numpy(train[:, :-1]).float(), torch.from_numpy(train[:, [-1]]).float()
    loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)
    trained = student.train_classifier(model, loader, epochs=10, lr=1.0)
    expect_type(trained, torch.nn.Module, "train_classifier(...)", hint=_("return the model you trained"))
    trained.eval()
    with torch.no_grad():
        p = trained(torch.from_numpy(test[:, :-1]).float())
    if not bool(torch.isfinite(p).all()):
        fail(_("the trained model's outputs on the held-out rows are not finite"))
    accuracy = float(((p > 0.5).double().squeeze(1) == torch.from_numpy(test[:, -1])).double().mean())
    expect_at_least(accuracy, ACCURACY_BAR, _("held-out accuracy after train_classifier(epochs=10, lr=1.0)"),
                    hint=_("nn.BCELoss() (the mean) and torch.optim.SGD(model.parameters(), lr=lr); zero_grad, "
                           "backward and step every batch"))
