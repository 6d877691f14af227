// Tensor fills: a constant, and seeded uniform / normal random numbers.
// Random values are a pure function of (seed, element index): the same on
// every device and run, whatever the dispatch shape.

struct FillParams {
    len: u32,
    off: u32,
    seed_lo: u32,
    seed_hi: u32,
    a: f32,
    b: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: FillParams;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

// PCG output permutation (O'Neill), used as an integer hash.
fn pcg_hash(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn random_u32(i: u32, stream: u32) -> u32 {
    let key = pcg_hash(p.seed_lo ^ pcg_hash(p.seed_hi ^ pcg_hash(stream)));
    return pcg_hash(i ^ key) ^ pcg_hash(i + 0x9e3779b9u * (key | 1u));
}

// Uniform in [0, 1) with 24 random bits.
fn random_unit(i: u32, stream: u32) -> f32 {
    return f32(random_u32(i, stream) >> 8u) * (1.0 / 16777216.0);
}

@compute @workgroup_size(256)
fn fill_constant(ids: Invocation) {
    let i = thread_index(ids);
    if (i < p.len) {
        y[p.off + i] = p.a;
    }
}

// a + (b - a) * u, u uniform in [0, 1).
@compute @workgroup_size(256)
fn fill_uniform(ids: Invocation) {
    let i = thread_index(ids);
    if (i < p.len) {
        y[p.off + i] = p.a + (p.b - p.a) * random_unit(i, 0u);
    }
}

// mean a, standard deviation b (Box-Muller).
@compute @workgroup_size(256)
fn fill_normal(ids: Invocation) {
    let i = thread_index(ids);
    if (i < p.len) {
        let u1 = 1.0 - random_unit(i, 1u); // (0, 1]: log stays finite
        let u2 = random_unit(i, 2u);
        let z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        y[p.off + i] = p.a + p.b * z;
    }
}
