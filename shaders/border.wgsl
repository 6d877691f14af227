// Shared by the filter kernels: parameters, and how a coordinate outside the
// image maps back into it (the border mode).
//
// BORDER: 0 constant (the padded value is `p.value`), 1 reflect-101 (the edge
// pixel is not repeated, PyTorch "reflect" / OpenCV BORDER_REFLECT_101),
// 2 replicate, 3 circular. The host guarantees that no pad is wider than the
// image (reflect: narrower), so one reflection or wrap suffices.

override BORDER: u32 = 0u;
// Kernel size, fixed per pipeline so that the tap loops unroll.
override KY: i32 = 3;
override KX: i32 = 3;
// Slide along y instead of x (column kernels).
override ALONG_Y: u32 = 0u;

struct FilterParams {
    // Image planes (N·C) and channels per batch item.
    planes: u32,
    channels: u32,
    height: i32,
    width: i32,
    // Tap (ky, kx) of output pixel (y, x) reads input (y + ky - anchor_y, x + kx - anchor_x).
    anchor_y: i32,
    anchor_x: i32,
    // Kernel elements per batch item; 0 when one kernel serves every item.
    kernel_stride: u32,
    value: f32,
    off_in: u32,
    off_kernel: u32,
    off_out: u32,
    // kernel_adjoint: the output gradient.
    off_grad: u32,
    // fold_borders: widths of the border band whose pixels are also padding.
    band_top: i32,
    band_bottom: i32,
    band_left: i32,
    band_right: i32,
    // kernel_adjoint: rows per chunk, chunks per kernel, planes per kernel.
    rows_per_chunk: u32,
    chunks: u32,
    planes_per_kernel: u32,
}

@group(0) @binding(0) var<uniform> p: FilterParams;

// Index into an axis of length n for a padded coordinate i; -1 for the
// constant border outside the image.
fn border_index(i: i32, n: i32) -> i32 {
    if (i >= 0 && i < n) {
        return i;
    }
    switch BORDER {
        case 1u: {
            return select(2 * (n - 1) - i, -i, i < 0);
        }
        case 2u: {
            return clamp(i, 0, n - 1);
        }
        case 3u: {
            return select(i - n, i + n, i < 0);
        }
        default: {
            return -1;
        }
    }
}

// The same without branches, for inner loops: CPU adapters (llvmpipe) run
// both sides of a branch that may diverge, so a fast path plus a border path
// costs both. Always an index inside [0, n) (coordinates far past the edge,
// read only for outputs beyond the image, stay in bounds); whether it stands
// for a real pixel (not the constant border) is `reads_pixel`. BORDER is a
// pipeline constant, so each switch folds to one case.
fn border_map(i: i32, n: i32) -> i32 {
    var j = i;
    switch BORDER {
        case 1u: {
            let r = abs(i);
            j = select(r, 2 * (n - 1) - r, r >= n);
        }
        case 3u: {
            j = select(select(i, i - n, i >= n), i + n, i < 0);
        }
        default: {}
    }
    return clamp(j, 0, n - 1);
}

fn reads_pixel(i: i32, n: i32) -> bool {
    return BORDER != 0u || (i >= 0 && i < n);
}

// Axis geometry: (major, minor) = (x, y), or (y, x) when ALONG_Y.
struct Axes {
    major_len: i32,
    minor_len: i32,
    major_stride: i32,
    minor_stride: i32,
    k_major: i32,
    k_minor: i32,
    a_major: i32,
    a_minor: i32,
}

fn axes() -> Axes {
    if (ALONG_Y == 1u) {
        return Axes(p.height, p.width, p.width, 1, KY, KX, p.anchor_y, p.anchor_x);
    }
    return Axes(p.width, p.height, 1, p.width, KX, KY, p.anchor_x, p.anchor_y);
}
