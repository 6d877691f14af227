// One axis of a resize: out[plane, ..., o, ...] = Σ_t weight[o, t] · src[plane, ..., index[o, t], ...]
// along x (ALONG_Y = 0: planes of [across rows, len columns]) or along y
// (planes of [len rows, across columns]). With MODE 0 the taps come from a
// table (`taps` entries per output position, unused ones with weight 0): the
// antialiased and area modes, and every adjoint (the transposed table).
// MODE 1–4 compute PyTorch's taps from the position instead (nearest,
// nearest-exact, bilinear, bicubic, as resize.rs's `axis_taps` does in f32),
// which saves two loads per tap. One thread per output element.

override ALONG_Y: u32 = 0u;
override MODE: u32 = 0u;
override ALIGN: u32 = 0u;

struct ResampleParams {
    in_len: u32,
    out_len: u32,
    across: u32,
    taps: u32,
    scale: f32,
}

@group(0) @binding(0) var<uniform> p: ResampleParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<u32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
// `out`'s buffer again as vec4s: with VEC4_OUT (lines along memory of whole
// vec4s) a thread takes four neighbouring outputs and stores them at once
// (llvmpipe stores one lane at a time, a vec4 as cheaply as a scalar).
@group(0) @binding(5) var<storage, read_write> out4: array<vec4<f32>>;
override VEC4_OUT: u32 = 0u;

// Cubic convolution, a = -0.75 (PyTorch's upsample_bicubic2d).
fn cubic(v: f32) -> f32 {
    let a = -0.75;
    let x = abs(v);
    if (x < 1.0) {
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    }
    return select(0.0, (((x - 5.0) * x + 8.0) * x - 4.0) * a, x < 2.0);
}

fn load_src(base: u32, i: u32, stride: u32) -> f32 {
    return src[base + i * stride];
}

// The resampled value at output position o of the line starting at `base`.
fn value(base: u32, o: u32, stride: u32) -> f32 {
    let last = p.in_len - 1u;
    let pos = f32(o);
    switch MODE {
        case 1u: {
            return load_src(base, min(u32(floor(pos * p.scale)), last), stride);
        }
        case 2u: {
            return load_src(base, min(u32(floor((pos + 0.5) * p.scale)), last), stride);
        }
        case 3u: {
            let s = select(max(p.scale * (pos + 0.5) - 0.5, 0.0), p.scale * pos, ALIGN == 1u);
            let i0 = min(u32(s), last);
            let l1 = clamp(s - f32(i0), 0.0, 1.0);
            return (1.0 - l1) * load_src(base, i0, stride) + l1 * load_src(base, min(i0 + 1u, last), stride);
        }
        case 4u: {
            let s = select(p.scale * (pos + 0.5) - 0.5, p.scale * pos, ALIGN == 1u);
            let f0 = floor(s);
            let t = s - f0;
            var acc = 0.0;
            for (var k = 0; k < 4; k++) {
                let i = u32(clamp(i32(f0) - 1 + k, 0, i32(last)));
                acc += cubic(t + 1.0 - f32(k)) * load_src(base, i, stride);
            }
            return acc;
        }
        default: {
            var acc = 0.0;
            for (var t = 0u; t < p.taps; t++) {
                let at = o * p.taps + t;
                acc += weight[at] * load_src(base, index[at], stride);
            }
            return acc;
        }
    }
}

// Grid: x runs along memory (output positions along x, or columns along y),
// y over the lines, z over the planes; no division.
@compute @workgroup_size(256)
fn resample(ids: Invocation) {
    let fast = (ids.wid.x * 256u + ids.lid) * select(1u, 4u, VEC4_OUT == 1u);
    let slow = ids.wid.y;
    let plane = ids.wid.z;
    var o = fast;
    var a = slow;
    var stride = 1u;
    var width = p.out_len;
    if (ALONG_Y == 1u) {
        o = slow;
        a = fast;
        stride = p.across;
        width = p.across;
    }
    if (fast >= width) {
        return;
    }
    let base = plane * p.across * p.in_len + select(a * p.in_len, a, ALONG_Y == 1u);
    let at = plane * p.across * p.out_len + slow * width + fast;
    if (VEC4_OUT == 1u) {
        // four outputs along memory: along x the next positions of one
        // line, along y the same position of the next lines
        var v: vec4<f32>;
        if (ALONG_Y == 1u) {
            v = vec4(value(base, o, stride), value(base + 1u, o, stride), value(base + 2u, o, stride), value(base + 3u, o, stride));
        } else {
            v = vec4(value(base, o, stride), value(base, o + 1u, stride), value(base, o + 2u, stride), value(base, o + 3u, stride));
        }
        out4[at / 4u] = v;
        return;
    }
    out[at] = value(base, o, stride);
}
