// SSIM from the five filtered moments of two images, fused: one pass
// forward, two back. Per element, with μa, μb the means and Eaa, Ebb, Eab
// the filtered products:
//   L = (2 μa μb + C1) / (μa² + μb² + C1)                       (luminance)
//   S = (2 (Eab − μa μb) + C2) / (Eaa − μa² + Ebb − μb² + C2)    (contrast-structure)
// OUT (pipeline constant): 0 SSIM = L·S, 1 L, 2 S. The adjoint is split in
// two passes (means, then moments) to stay within 8 storage buffers; the
// gradients of Eaa and Ebb are equal and written once.

override OUT: u32 = 0u;

struct SsimParams {
    len: u32,
    c1: f32,
    c2: f32,
}

@group(0) @binding(0) var<uniform> p: SsimParams;
@group(0) @binding(1) var<storage, read> mu_a: array<f32>;
@group(0) @binding(2) var<storage, read> mu_b: array<f32>;
@group(0) @binding(3) var<storage, read> e_aa: array<f32>;
@group(0) @binding(4) var<storage, read> e_bb: array<f32>;
@group(0) @binding(5) var<storage, read> e_ab: array<f32>;
@group(0) @binding(6) var<storage, read> g: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_a: array<f32>;
@group(0) @binding(8) var<storage, read_write> out_b: array<f32>;

struct Terms {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
}

fn terms(i: u32) -> Terms {
    let ma = mu_a[i];
    let mb = mu_b[i];
    return Terms(
        2.0 * ma * mb + p.c1,
        ma * ma + mb * mb + p.c1,
        2.0 * (e_ab[i] - ma * mb) + p.c2,
        e_aa[i] - ma * ma + e_bb[i] - mb * mb + p.c2,
    );
}

// The weights of ∂L and ∂S in the output's derivative.
fn weights(t: Terms) -> vec2<f32> {
    switch OUT {
        case 1u: { return vec2(1.0, 0.0); }
        case 2u: { return vec2(0.0, 1.0); }
        default: { return vec2(t.c / t.d, t.a / t.b); }
    }
}

// Bindings 6 and 8 are unused here.
@compute @workgroup_size(256)
fn forward(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    let t = terms(i);
    let l = t.a / t.b;
    let s = t.c / t.d;
    var v = l * s;
    if (OUT == 1u) {
        v = l;
    } else if (OUT == 2u) {
        v = s;
    }
    out_a[i] = v;
}

// Gradients of μa (out_a) and μb (out_b).
@compute @workgroup_size(256)
fn adjoint_means(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    let t = terms(i);
    let w = weights(t) * g[i];
    let ma = mu_a[i];
    let mb = mu_b[i];
    let b2 = t.b * t.b;
    let d2 = t.d * t.d;
    out_a[i] = w.x * (2.0 * mb * t.b - 2.0 * ma * t.a) / b2 + w.y * (2.0 * ma * t.c - 2.0 * mb * t.d) / d2;
    out_b[i] = w.x * (2.0 * ma * t.b - 2.0 * mb * t.a) / b2 + w.y * (2.0 * mb * t.c - 2.0 * ma * t.d) / d2;
}

// Gradients of Eaa = Ebb (out_a) and Eab (out_b).
@compute @workgroup_size(256)
fn adjoint_moments(ids: Invocation) {
    let i = thread_index(ids);
    if (i >= p.len) {
        return;
    }
    let t = terms(i);
    let w = weights(t) * g[i];
    out_a[i] = -w.y * t.c / (t.d * t.d);
    out_b[i] = w.y * 2.0 / t.d;
}
