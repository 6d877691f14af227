// Exhaustive translation search: one thread per (item, shift) computes the
// normalised cross-correlation of fixed(x) and moving(x + shift) over their
// overlap, on small grey copies (at most 64 pixels a side, so a thread's
// loop stays within the software rasterisers' iteration budget). Shifts
// whose overlap is below `min_overlap` pixels score -2.

struct SearchParams {
    batch: u32,
    width: u32,
    height: u32,
    // Shifts run over [-reach_x, reach_x] × [-reach_y, reach_y].
    reach_x: u32,
    reach_y: u32,
    min_overlap: u32,
    // 1: score |NCC| (images whose intensities may be inverted).
    absolute: u32,
}

@group(0) @binding(0) var<uniform> p: SearchParams;
@group(0) @binding(1) var<storage, read> moving: array<f32>;
@group(0) @binding(2) var<storage, read> fixed: array<f32>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;

@compute @workgroup_size(256)
fn search(ids: Invocation) {
    let t = thread_index(ids);
    let span_x = 2u * p.reach_x + 1u;
    let shifts = span_x * (2u * p.reach_y + 1u);
    if (t >= p.batch * shifts) {
        return;
    }
    let item = t / shifts;
    let s = t - item * shifts;
    let dx = i32(s % span_x) - i32(p.reach_x);
    let dy = i32(s / span_x) - i32(p.reach_y);
    let w = i32(p.width);
    let h = i32(p.height);
    let x0 = max(0, -dx);
    let x1 = min(w, w - dx);
    let y0 = max(0, -dy);
    let y1 = min(h, h - dy);
    let count = max(x1 - x0, 0) * max(y1 - y0, 0);
    if (count < i32(p.min_overlap)) {
        scores[t] = -2.0;
        return;
    }
    let base = item * p.width * p.height;
    // Sums about 0.5 keep the single-pass moments accurate in f32.
    var sm = 0.0;
    var sf = 0.0;
    var smm = 0.0;
    var sff = 0.0;
    var smf = 0.0;
    for (var y = y0; y < y1; y++) {
        for (var x = x0; x < x1; x++) {
            let f = fixed[base + u32(y * w + x)] - 0.5;
            let m = moving[base + u32((y + dy) * w + x + dx)] - 0.5;
            sm += m;
            sf += f;
            smm += m * m;
            sff += f * f;
            smf += m * f;
        }
    }
    let n = f32(count);
    let cov = smf - sm * sf / n;
    let var_m = max(smm - sm * sm / n, 0.0);
    let var_f = max(sff - sf * sf / n, 0.0);
    let ncc = cov / sqrt(var_m * var_f + 1e-12);
    scores[t] = select(ncc, abs(ncc), p.absolute == 1u);
}
