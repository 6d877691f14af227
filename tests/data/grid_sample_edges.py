# Generates grid_sample_edges.txt: PyTorch's grid_sample outputs and
# gradients at and beyond the image edges, for every mode, padding and
# align_corners (PyTorch 2.5.1, float64). tests/warp.rs compares against it.
#   python grid_sample_edges.py > grid_sample_edges.txt
import torch

torch.set_default_dtype(torch.float64)
img = torch.tensor([((i * 7) % 12) / 11.0 for i in range(12)]).reshape(1, 1, 3, 4)
# exactly on the edges, just inside, beyond
points = [(-1, -1), (1, 1), (-1, 0.3), (1.0, -0.2), (0.999, 0.5), (-1.2, 0.4), (1.3, -1.1), (0.25, 1.0)]
weights = torch.linspace(0.5, 1.2, 8).reshape(1, 1, 1, 8)
for mode in ["nearest", "bilinear", "bicubic"]:
    for padding in ["zeros", "border", "reflection"]:
        for align in [True, False]:
            image = img.clone().requires_grad_(True)
            grid = torch.tensor(points).reshape(1, 1, 8, 2).requires_grad_(True)
            out = torch.nn.functional.grid_sample(image, grid, mode=mode, padding_mode=padding, align_corners=align)
            (out * weights).sum().backward()
            fields = [out.flatten(), image.grad.flatten(), grid.grad.flatten()]
            print(mode, padding, int(align), "|", " | ".join(" ".join(repr(v) for v in f.tolist()) for f in fields))
