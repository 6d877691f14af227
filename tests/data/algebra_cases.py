"""Generates algebra_cases.txt: PyTorch's tensor algebra in float64, values
and vector-Jacobian products, for tests/linalg.rs. Values to 12 digits.

Lines come in pairs, a name and its values (row-major); every case has its
inputs, a seed gradient `<case>.seed` of the output's shape, `<case>.out`
and `<case>.grad.<input>`:
  matmul     a [2, 3, 4] · b [4, 5] (b shared by the batch)
  permute    x [2, 3, 4, 5] to axes (2, 0, 3, 1)
  solve      a [3, 4, 4] (diagonally dominant), b [3, 4, 2]
  inverse    a [2, 3, 3]
  eigh       x [3, 5, 5] (not symmetric: its symmetric part is decomposed,
             the input written as (x + xᵀ)/2 here); out = eigenvalues [3, 5]
             then eigenvectors [3, 5, 5] with each column's largest |entry|
             made positive (pixgrad's sign; PyTorch leaves it to LAPACK);
             seeds for both: values.seed, vectors.seed
  index_select  x [2, 5, 3] along axis 1 at 4 0 4 2 4 1
  gather     x [3, 4, 5] along axis 1, index [3, 6, 5] with repeats

Run with torch installed: python tests/data/algebra_cases.py
"""
import torch

from fixtures import f32, line, write

INDEX = [4, 0, 4, 2, 4, 1]


def leaf(*shape):
    return f32(torch.randn(*shape, dtype=torch.float64)).requires_grad_(True)


def record(lines, name, inputs, out, seed=None):
    seed = f32(torch.randn(out.shape, dtype=torch.float64)) if seed is None else seed
    out.backward(seed)
    for label, t in inputs.items():
        lines += [f"{name}.{label}", line(t.detach())]
    lines += [f"{name}.seed", line(seed), f"{name}.out", line(out.detach())]
    for label, t in inputs.items():
        lines += [f"{name}.grad.{label}", line(t.grad)]


def main():
    torch.manual_seed(9)
    lines = []
    a, b = leaf(2, 3, 4), leaf(4, 5)
    record(lines, "matmul", {"a": a, "b": b}, a @ b)
    x = leaf(2, 3, 4, 5)
    record(lines, "permute", {"x": x}, x.permute(2, 0, 3, 1))
    a = f32(torch.randn(3, 4, 4, dtype=torch.float64) + 4 * torch.eye(4, dtype=torch.float64)).requires_grad_(True)
    b = leaf(3, 4, 2)
    record(lines, "solve", {"a": a, "b": b}, torch.linalg.solve(a, b))
    a = f32(torch.randn(2, 3, 3, dtype=torch.float64) + 2 * torch.eye(3, dtype=torch.float64)).requires_grad_(True)
    record(lines, "inverse", {"a": a}, torch.linalg.inv(a))

    x = leaf(3, 5, 5)
    values, vectors = torch.linalg.eigh((x + x.transpose(-1, -2)) / 2)
    largest = vectors.detach().abs().argmax(dim=-2, keepdim=True)
    vectors = vectors * torch.sign(torch.gather(vectors.detach(), -2, largest))
    g_values, g_vectors = f32(torch.randn(3, 5, dtype=torch.float64)), f32(torch.randn(3, 5, 5, dtype=torch.float64))
    ((values * g_values).sum() + (vectors * g_vectors).sum()).backward()
    lines += ["eigh.x", line(x.detach()), "eigh.values.seed", line(g_values), "eigh.vectors.seed", line(g_vectors)]
    lines += ["eigh.values", line(values.detach()), "eigh.vectors", line(vectors.detach()), "eigh.grad.x", line(x.grad)]

    x = leaf(2, 5, 3)
    record(lines, "index_select", {"x": x}, torch.index_select(x, 1, torch.tensor(INDEX)))
    x = leaf(3, 4, 5)
    index = torch.randint(0, 4, (3, 6, 5))
    index[0, :, 0] = 2  # one source entry read by six outputs
    lines += ["gather.index", line(index.double())]
    record(lines, "gather", {"x": x}, torch.gather(x, 1, index))
    write("algebra_cases.txt", lines)


if __name__ == "__main__":
    main()
