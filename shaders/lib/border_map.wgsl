// How a coordinate outside the image maps back into it (the border mode),
// shared by every windowed kernel.
//
// BORDER: 0 constant (the padded value is the caller's), 1 reflect-101 (the
// edge pixel is not repeated, PyTorch "reflect" / OpenCV BORDER_REFLECT_101),
// 2 replicate, 3 circular. The host guarantees that no pad is wider than the
// image (reflect: narrower), so one reflection or wrap suffices.

override BORDER: u32 = 0u;

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

