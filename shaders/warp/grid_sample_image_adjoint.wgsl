// import lib/sampling.wgsl
// import lib/sample_points.wgsl
// import lib/exact_sum.wgsl

// The sampler, adjoint with respect to the image, deterministic without
// float atomics: every tap is binned by the source pixel it reads, then each
// source pixel sums its bin exactly, so the order the bin was filled in
// (which varies run to run) does not matter.
//   bin_taps, FILL = 0: counts[q] = number of taps reading source pixel q
//                (integer atomics)
//   (host)       starts = exclusive prefix sum of counts (reduce/prefix_sum.wgsl)
//   bin_taps, FILL = 1: each tap writes (output pixel, weight) into q's bin,
//                in any order
//   gather_taps: each source pixel sums g[n, c, pixel] · weight over its bin
//                for every channel: bins of up to 8 taps in the order of a
//                sort of their (output pixel, weight) pairs, larger ones
//                exactly (see wide_add), up to p.big_bin taps.
//   big_pieces (twice), big_finish: bins of more than p.big_bin taps
//                (a flow or grid that clamps a large region onto one edge
//                pixel), summed exactly in pieces of p.big_bin taps.
// Why pieces: llvmpipe ends every loop of an invocation once the loops
// together have run 65 535 iterations (gallivm's loop limiter), so one
// thread cannot walk a bin of 2^15 taps twice; every kernel here keeps its
// threads' loops well under that.
// A chunk of p.items batch items from p.item at a time (as many as the bins
// of one binding hold); bin index = item in the chunk · plane + q.

@group(0) @binding(0) var<uniform> p: SampleParams;
@group(0) @binding(1) var<storage, read> coord_x: array<f32>;
@group(0) @binding(2) var<storage, read> coord_y: array<f32>;
@group(0) @binding(3) var<storage, read> grad_out: array<f32>;
@group(0) @binding(4) var<storage, read> starts: array<u32>;
@group(0) @binding(5) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read_write> keys: array<u32>;
@group(0) @binding(7) var<storage, read_write> weights: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad_img: array<f32>;

// The two binning passes, one code path: with FILL = 0 every tap counts
// itself in its bin; with FILL = 1 it writes (output pixel, weight) into the
// next free slot of its bin (after the host has scanned the counts).
override FILL: u32 = 0u;

@compute @workgroup_size(256)
fn bin_taps(ids: Invocation) {
    let pixels = p.out_height * p.out_width;
    let t = thread_index(ids);
    if (t >= p.items * pixels) {
        return;
    }
    let local = t / pixels;
    let pixel = t % pixels;
    let taps = compute_taps(point_of(p.item + local, pixel));
    let bins = local * p.height * p.width;
    for (var k = 0u; k < tap_count(); k++) {
        let q = taps.index[k];
        if (q >= 0 && taps.weight[k] != 0.0) {
            let bin = bins + u32(q);
            let arrival = atomicAdd(&counts[bin], 1u);
            if (FILL == 1u) {
                keys[starts[bin] + arrival] = pixel;
                weights[starts[bin] + arrival] = taps.weight[k];
            }
        }
    }
}

// One tap of a bin; EMPTY keys fill a small bin's unused slots (they sort
// last and add 0).
struct Entry {
    key: u32,
    weight: f32,
}

const EMPTY: u32 = 0xffffffffu;

fn entry(at: u32, used: bool) -> Entry {
    return Entry(select(EMPTY, keys[at], used), select(0.0, weights[at], used));
}

// Orders two entries by (key, weight): equal pairs are the same term.
fn exchange(a: ptr<function, Entry>, b: ptr<function, Entry>) {
    let x = *a;
    let y = *b;
    let swap = y.key < x.key || (y.key == x.key && y.weight < x.weight);
    *a = Entry(select(x.key, y.key, swap), select(x.weight, y.weight, swap));
    *b = Entry(select(y.key, x.key, swap), select(y.weight, x.weight, swap));
}

fn term(e: Entry, g_base: u32) -> f32 {
    return select(0.0, grad_out[g_base + e.key] * e.weight, e.key != EMPTY);
}

// A bin of up to 8 taps (most: bilinear sampling of a like-sized output
// puts about four in each): sorted in registers by an optimal 8-input
// network (named entries: llvmpipe turns a dynamically indexed private
// array into chains of selects), then summed in that order for every
// channel. The fill order of the bin does not matter, and it takes one
// load per tap and channel where the exact sum takes two passes.
fn gather_small(n: u32, q: u32, begin: u32, count: u32) {
    var e0 = entry(begin, count > 0u);
    var e1 = entry(begin + 1u, count > 1u);
    var e2 = entry(begin + 2u, count > 2u);
    var e3 = entry(begin + 3u, count > 3u);
    var e4 = entry(begin + 4u, count > 4u);
    var e5 = entry(begin + 5u, count > 5u);
    var e6 = entry(begin + 6u, count > 6u);
    var e7 = entry(begin + 7u, count > 7u);
    exchange(&e0, &e2);
    exchange(&e1, &e3);
    exchange(&e4, &e6);
    exchange(&e5, &e7);
    exchange(&e0, &e4);
    exchange(&e1, &e5);
    exchange(&e2, &e6);
    exchange(&e3, &e7);
    exchange(&e0, &e1);
    exchange(&e2, &e3);
    exchange(&e4, &e5);
    exchange(&e6, &e7);
    exchange(&e2, &e4);
    exchange(&e3, &e5);
    exchange(&e1, &e4);
    exchange(&e3, &e6);
    exchange(&e1, &e2);
    exchange(&e3, &e4);
    exchange(&e5, &e6);
    let plane = p.height * p.width;
    let pixels = p.out_height * p.out_width;
    for (var c = 0u; c < p.channels; c++) {
        let g_base = p.off_grad + (n * p.channels + c) * pixels;
        let total = term(e0, g_base) + term(e1, g_base) + term(e2, g_base) + term(e3, g_base) + term(e4, g_base)
            + term(e5, g_base) + term(e6, g_base) + term(e7, g_base);
        grad_img[p.off_out + (n * p.channels + c) * plane + q] = total;
    }
}

@compute @workgroup_size(256)
fn gather_taps(ids: Invocation) {
    let plane = p.height * p.width;
    let bin = thread_index(ids);
    if (bin >= p.items * plane) {
        return;
    }
    let n = p.item + bin / plane;
    let q = bin % plane;
    let begin = starts[bin];
    let end = starts[bin + 1u];
    if (end - begin <= 8u) {
        gather_small(n, q, begin, end - begin);
        return;
    }
    if (end - begin > p.big_bin) {
        // big_finish writes it
        return;
    }
    let pixels = p.out_height * p.out_width;
    for (var c = 0u; c < p.channels; c++) {
        let g_base = p.off_grad + (n * p.channels + c) * pixels;
        var largest = 0.0;
        var special = false;
        for (var i = begin; i < end; i++) {
            let term = grad_out[g_base + keys[i]] * weights[i];
            special = special || !is_finite(term);
            largest = max(largest, abs(term));
        }
        var total = 0.0;
        if (special) {
            // inf or NaN terms: their IEEE sum does not depend on the order
            for (var i = begin; i < end; i++) {
                total += grad_out[g_base + keys[i]] * weights[i];
            }
        } else if (largest > 0.0) {
            let shift = sum_shift(end - begin, largest);
            var acc = Wide(0, 0u);
            for (var i = begin; i < end; i++) {
                acc = wide_add(acc, scale(grad_out[g_base + keys[i]] * weights[i], shift));
            }
            total = wide_value(acc, -shift);
        }
        grad_img[p.off_out + (n * p.channels + c) * plane + q] = total;
    }
}

// Big bins, in pieces: piece j holds taps [j · big_bin, (j + 1) · big_bin)
// of the whole tap array. A big bin holds more than big_bin taps, so every
// big bin a piece meets contains the piece's first or last tap, and no two
// big bins share a slot starts[bin] / big_bin. Per slot and channel, eight
// words of `counts` (scratch here, zeroed by the host): the largest |term|
// (f32 bits, atomicMax: their order is the values' order), flags of
// non-finite terms (1: +inf, 2: -inf, 4: NaN), the 64-bit sum (hi, lo:
// two integer atomics with the carry; integer adds in any order give the
// same bits), and the bin + 1.
const SLOT_WORDS: u32 = 8u;

// The bin holding tap `at` (starts is sorted): a binary search.
fn bin_of_tap(at: u32) -> u32 {
    var lo = 0u;
    var hi = p.items * p.height * p.width;
    while (lo < hi) {
        let mid = (lo + hi) / 2u;
        if (starts[mid + 1u] <= at) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct Piece {
    valid: bool,
    channel: u32,
    begin: u32,
    end: u32,
    // the big bins it meets (first == second when one)
    first: u32,
    second: u32,
}

fn piece_of(t: u32) -> Piece {
    var piece: Piece;
    let bins = p.items * p.height * p.width;
    let total = starts[bins];
    let j = t / p.channels;
    piece.channel = t - j * p.channels;
    piece.begin = j * p.big_bin;
    piece.valid = piece.begin < total;
    if (!piece.valid) {
        return piece;
    }
    piece.end = min(piece.begin + p.big_bin, total);
    piece.first = bin_of_tap(piece.begin);
    piece.second = bin_of_tap(piece.end - 1u);
    return piece;
}

fn slot_word(bin: u32, channel: u32, word: u32) -> u32 {
    return ((starts[bin] / p.big_bin) * p.channels + channel) * SLOT_WORDS + word;
}

fn tap_term(at: u32, bin: u32, channel: u32) -> f32 {
    let plane = p.height * p.width;
    let n = p.item + bin / plane;
    let g_base = p.off_grad + (n * p.channels + channel) * p.out_height * p.out_width;
    return grad_out[g_base + keys[at]] * weights[at];
}

fn is_big(bin: u32) -> bool {
    return starts[bin + 1u] - starts[bin] > p.big_bin;
}

fn piece_largest(piece: Piece, bin: u32) {
    if (!is_big(bin)) {
        return;
    }
    var largest = 0.0;
    var flags = 0u;
    for (var i = max(starts[bin], piece.begin); i < min(starts[bin + 1u], piece.end); i++) {
        let term = tap_term(i, bin, piece.channel);
        if (is_finite(term)) {
            largest = max(largest, abs(term));
        } else {
            flags |= special_flags(term);
        }
    }
    atomicMax(&counts[slot_word(bin, piece.channel, 0u)], bitcast<u32>(largest));
    atomicOr(&counts[slot_word(bin, piece.channel, 1u)], flags);
    atomicMax(&counts[slot_word(bin, piece.channel, 4u)], bin + 1u);
}

fn piece_sum(piece: Piece, bin: u32) {
    let largest = bitcast<f32>(atomicLoad(&counts[slot_word(bin, piece.channel, 0u)]));
    if (!is_big(bin) || !(largest > 0.0)) {
        return;
    }
    let shift = sum_shift(starts[bin + 1u] - starts[bin], largest);
    var acc = Wide(0, 0u);
    for (var i = max(starts[bin], piece.begin); i < min(starts[bin + 1u], piece.end); i++) {
        let term = tap_term(i, bin, piece.channel);
        if (is_finite(term)) {
            acc = wide_add(acc, scale(term, shift));
        }
    }
    let old = atomicAdd(&counts[slot_word(bin, piece.channel, 3u)], acc.lo);
    let carry = select(0u, 1u, old + acc.lo < old);
    atomicAdd(&counts[slot_word(bin, piece.channel, 2u)], bitcast<u32>(acc.hi) + carry);
}

// The two passes over the pieces, one code path: the largest terms
// (BIG_SUM = 0), then the sums (BIG_SUM = 1).
override BIG_SUM: u32 = 0u;

@compute @workgroup_size(256)
fn big_pieces(ids: Invocation) {
    let piece = piece_of(thread_index(ids));
    if (!piece.valid) {
        return;
    }
    for (var k = 0u; k < select(2u, 1u, piece.second == piece.first); k++) {
        let bin = select(piece.second, piece.first, k == 0u);
        if (BIG_SUM == 1u) {
            piece_sum(piece, bin);
        } else {
            piece_largest(piece, bin);
        }
    }
}

// One thread per (slot, channel): the big bin's sum into the image gradient.
@compute @workgroup_size(256)
fn big_finish(ids: Invocation) {
    let t = thread_index(ids);
    // slots of every channel; the binding may be longer than the scratch
    let slots = (p.items * p.out_height * p.out_width * tap_count() / p.big_bin + 1u) * p.channels;
    if (t >= slots) {
        return;
    }
    let at = t * SLOT_WORDS;
    let bin_plus_one = atomicLoad(&counts[at + 4u]);
    if (bin_plus_one == 0u) {
        return;
    }
    let bin = bin_plus_one - 1u;
    let channel = t % p.channels;
    let acc = Wide(bitcast<i32>(atomicLoad(&counts[at + 2u])), atomicLoad(&counts[at + 3u]));
    let total = exact_total(
        atomicLoad(&counts[at + 1u]),
        bitcast<f32>(atomicLoad(&counts[at])),
        acc,
        starts[bin + 1u] - starts[bin],
    );
    let plane = p.height * p.width;
    let n = p.item + bin / plane;
    grad_img[p.off_out + (n * p.channels + channel) * plane + bin % plane] = total;
}
