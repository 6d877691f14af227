// A grid of tiles over an image padded by reflection at its end (CLAHE's,
// as Kornia: tiles of ceil(H / tiles_y) × ceil(W / tiles_x) pixels; padded
// row H + k reads row H − 2 − k). One tile of the image's size is the
// untiled case.

struct TileGrid {
    height: u32,
    width: u32,
    tile_h: u32,
    tile_w: u32,
    tiles_y: u32,
    tiles_x: u32,
    _pad0: u32,
    _pad1: u32,
}

// The image index a padded index reads.
fn reflect_end(i: u32, n: u32) -> u32 {
    return select(i, 2u * (n - 1u) - i, i >= n);
}

// The tiles holding a pixel and its reflected copies in the padding.
struct Copies {
    count: u32,
    tiles: array<u32, 4>,
}

fn padded_copies(row: u32, col: u32, grid: TileGrid) -> Copies {
    var rows = array<u32, 2>(row, 0u);
    var cols = array<u32, 2>(col, 0u);
    var n_rows = 1u;
    var n_cols = 1u;
    let mirror_row = 2u * (grid.height - 1u) - row;
    if (row + 1u < grid.height && mirror_row >= grid.height && mirror_row < grid.tiles_y * grid.tile_h) {
        rows[1] = mirror_row;
        n_rows = 2u;
    }
    let mirror_col = 2u * (grid.width - 1u) - col;
    if (col + 1u < grid.width && mirror_col >= grid.width && mirror_col < grid.tiles_x * grid.tile_w) {
        cols[1] = mirror_col;
        n_cols = 2u;
    }
    var out = Copies(0u, array<u32, 4>(0u, 0u, 0u, 0u));
    for (var i = 0u; i < n_rows; i++) {
        for (var j = 0u; j < n_cols; j++) {
            out.tiles[out.count] = (rows[i] / grid.tile_h) * grid.tiles_x + cols[j] / grid.tile_w;
            out.count += 1u;
        }
    }
    return out;
}

// A pixel's position between tile centres along one axis (Kornia's
// (p − (T − 1)/2) / T): the two tiles it blends and the second's weight,
// clamped to the border tiles.
fn blend_axis(p: u32, tile: u32, tiles: u32) -> vec3<f32> {
    let y = (f32(p) - 0.5 * f32(tile - 1u)) / f32(tile);
    let below = floor(y);
    let last = f32(tiles - 1u);
    let t0 = clamp(below, 0.0, last);
    let t1 = clamp(below + 1.0, 0.0, last);
    let w = select(clamp(y - below, 0.0, 1.0), 0.0, y < 0.0 || y > last);
    return vec3(t0, t1, w);
}
