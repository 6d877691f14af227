// Shared by the sampler kernels that bind the coordinates as `coord_x` and
// `coord_y` (warp/grid_sample.wgsl, warp/grid_sample_point_adjoint.wgsl, warp/grid_sample_image_adjoint.wgsl):
// the point output pixel `pixel` of item `n` samples. With MATRIX the
// coordinate binding holds the inverse matrices [N or 1, 3, 3] instead
// (batch stride 9 or 0), and the point is computed from them.

fn inverse_rows(n: u32) -> mat3x3<f32> {
    let at = n * p.coord_batch_stride;
    return mat3x3<f32>(
        vec3(coord_x[at], coord_x[at + 1u], coord_x[at + 2u]),
        vec3(coord_x[at + 3u], coord_x[at + 4u], coord_x[at + 5u]),
        vec3(coord_x[at + 6u], coord_x[at + 7u], coord_x[at + 8u]),
    );
}

fn point_of(n: u32, pixel: u32) -> vec2<f32> {
    if (MATRIX != 0u) {
        let rows = inverse_rows(n);
        return matrix_point(rows[0], rows[1], rows[2], pixel % p.out_width, pixel / p.out_width, MATRIX == 2u);
    }
    let cx = coord_x[p.off_x + n * p.coord_batch_stride + pixel * p.coord_stride];
    let cy = coord_y[p.off_y + n * p.coord_batch_stride + pixel * p.coord_stride];
    return sample_point(n, pixel, cx, cy);
}
