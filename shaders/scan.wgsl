// Exclusive prefix sum of u32 values (deterministic: integer adds).
// scan_blocks: each workgroup scans a block of 1024 values (4 per thread)
//   into `scanned` and writes the block's total to `block_sums`.
// add_block_offsets: after the block sums were scanned the same way (by the
//   host, recursively), adds each block's offset to its values.

struct ScanParams {
    len: u32,
    off_in: u32,
    off_out: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: ScanParams;
@group(0) @binding(1) var<storage, read> values: array<u32>;
@group(0) @binding(2) var<storage, read_write> scanned: array<u32>;
@group(0) @binding(3) var<storage, read_write> block_sums: array<u32>;

const PER_THREAD: u32 = 4u;
const BLOCK: u32 = 1024u;

var<workgroup> totals: array<u32, 256>;

@compute @workgroup_size(256)
fn scan_blocks(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let block = wid.y * nwg.x + wid.x;
    let first = block * BLOCK + lid * PER_THREAD;
    var local: array<u32, 4>;
    var sum = 0u;
    for (var k = 0u; k < PER_THREAD; k++) {
        local[k] = sum;
        if (first + k < p.len) {
            sum += values[p.off_in + first + k];
        }
    }
    totals[lid] = sum;
    workgroupBarrier();
    // Hillis-Steele inclusive scan of the 256 thread totals.
    for (var width = 1u; width < WG; width *= 2u) {
        var add = 0u;
        if (lid >= width) {
            add = totals[lid - width];
        }
        workgroupBarrier();
        totals[lid] += add;
        workgroupBarrier();
    }
    let before = select(0u, totals[lid - 1u], lid > 0u);
    for (var k = 0u; k < PER_THREAD; k++) {
        if (first + k < p.len) {
            scanned[p.off_out + first + k] = before + local[k];
        }
    }
    if (lid == WG - 1u) {
        block_sums[block] = totals[WG - 1u];
    }
}

// `values` holds the scanned block sums here.
@compute @workgroup_size(256)
fn add_block_offsets(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = thread_index(wid, nwg, lid);
    if (i < p.len) {
        scanned[p.off_out + i] += values[i / BLOCK];
    }
}
