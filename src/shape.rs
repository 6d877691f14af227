//! Shape rules: validation, NumPy/PyTorch broadcasting, and the compact
//! index layouts the broadcasting and reduction kernels take.

use crate::error::{Error, Result};

/// Most dimensions a tensor may have.
pub const MAX_RANK: usize = 8;

pub(crate) fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Rejects shapes no tensor may have: too many dimensions, a zero
/// dimension (empty tensors are not supported), or more than `u32::MAX` elements.
pub(crate) fn check_shape(op: &'static str, shape: &[usize]) -> Result<()> {
    let invalid = |reason: String| Error::InvalidShape { op, shape: shape.to_vec(), reason };
    if shape.len() > MAX_RANK {
        return Err(invalid(format!("at most {MAX_RANK} dimensions are supported")));
    }
    if shape.contains(&0) {
        return Err(invalid("empty tensors (a zero dimension) are not supported".into()));
    }
    let total = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match total {
        Some(n) if n <= u32::MAX as usize => Ok(()),
        _ => Err(invalid("more than 2^32 - 1 elements".into())),
    }
}

/// The broadcast of several shapes (PyTorch rules: align on the right,
/// each dimension equal or 1).
pub(crate) fn broadcast_shapes(op: &'static str, shapes: &[&[usize]]) -> Result<Vec<usize>> {
    let rank = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1usize; rank];
    for shape in shapes {
        for (i, &d) in shape.iter().enumerate() {
            let slot = &mut out[rank - shape.len() + i];
            if *slot == 1 {
                *slot = d;
            } else if d != 1 && d != *slot {
                return Err(Error::ShapeMismatch {
                    op,
                    lhs: shapes[0].to_vec(),
                    rhs: shape.to_vec(),
                    reason: "cannot be broadcast together",
                });
            }
        }
    }
    Ok(out)
}

fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    strides
}

/// Index layout of an element-wise kernel: the output's index space with
/// size-1 dimensions dropped and neighbours merged where every operand
/// allows it, and each operand's strides (0 where it is broadcast).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BroadcastLayout {
    pub len: u32,
    pub rank: u32,
    pub shape: [u32; MAX_RANK],
    pub strides: [[u32; MAX_RANK]; 3],
    /// 0: same layout as the output; 1: one element; 2: use the strides.
    pub modes: [u32; 3],
}

pub(crate) fn broadcast_layout(out: &[usize], operands: &[&[usize]]) -> BroadcastLayout {
    debug_assert!(operands.len() <= 3);
    let rank = out.len();
    // Per operand, strides aligned to the output's dimensions.
    let aligned: Vec<Vec<usize>> = operands
        .iter()
        .map(|shape| {
            let own = contiguous_strides(shape);
            (0..rank)
                .map(|d| match (d + shape.len()).checked_sub(rank) {
                    Some(j) if shape[j] != 1 => own[j],
                    _ => 0,
                })
                .collect()
        })
        .collect();
    // Drop size-1 dimensions, then merge d into its left neighbour when
    // every operand walks both with one stride.
    let mut dims: Vec<(usize, Vec<usize>)> = Vec::new();
    for d in (0..rank).filter(|&d| out[d] != 1) {
        let strides: Vec<usize> = aligned.iter().map(|s| s[d]).collect();
        if let Some((size, outer)) = dims.last_mut() {
            let mergeable = outer.iter().zip(&strides).all(|(&o, &s)| o == s * out[d]);
            if mergeable {
                *size *= out[d];
                *outer = strides;
                continue;
            }
        }
        dims.push((out[d], strides));
    }
    let mut layout = BroadcastLayout {
        len: numel(out) as u32,
        rank: dims.len() as u32,
        shape: [1; MAX_RANK],
        strides: [[0; MAX_RANK]; 3],
        modes: [0; 3],
    };
    for (d, (size, strides)) in dims.iter().enumerate() {
        layout.shape[d] = *size as u32;
        for (k, &s) in strides.iter().enumerate() {
            layout.strides[k][d] = s as u32;
        }
    }
    for (k, shape) in operands.iter().enumerate() {
        layout.modes[k] = if numel(shape) == numel(out) {
            0
        } else if numel(shape) == 1 {
            1
        } else {
            2
        };
    }
    layout
}

/// Index layout of a reduction from `input` to `output` (same rank after
/// left-padding `output` with 1s; each output dimension equal to the
/// input's or 1): kept dimensions index the output, reduced ones are summed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReduceLayout {
    pub targets: u32,
    pub count: u32,
    pub kept: Vec<(u32, u32)>,
    pub reduced: Vec<(u32, u32)>,
}

pub(crate) fn reduce_layout(op: &'static str, input: &[usize], output: &[usize]) -> Result<ReduceLayout> {
    let mismatch = || Error::ShapeMismatch {
        op,
        lhs: input.to_vec(),
        rhs: output.to_vec(),
        reason: "do not reduce: each dimension of the target must equal the input's or be 1",
    };
    if output.len() > input.len() {
        return Err(mismatch());
    }
    let pad = input.len() - output.len();
    let strides = contiguous_strides(input);
    let mut kept: Vec<(u32, u32)> = Vec::new();
    let mut reduced: Vec<(u32, u32)> = Vec::new();
    let mut last_kept: Option<bool> = None;
    for d in 0..input.len() {
        let target = if d < pad { 1 } else { output[d - pad] };
        if input[d] == 1 {
            if target != 1 {
                return Err(mismatch());
            }
            continue;
        }
        let keep = if target == input[d] {
            true
        } else if target == 1 {
            false
        } else {
            return Err(mismatch());
        };
        let list = if keep { &mut kept } else { &mut reduced };
        // Contiguous input: a dimension right after one of the same class merges into it.
        match list.last_mut() {
            Some((size, stride)) if last_kept == Some(keep) => {
                *size *= input[d] as u32;
                *stride = strides[d] as u32;
            }
            _ => list.push((input[d] as u32, strides[d] as u32)),
        }
        last_kept = Some(keep);
    }
    Ok(ReduceLayout {
        targets: kept.iter().map(|k| k.0).product(),
        count: reduced.iter().map(|r| r.0).product(),
        kept,
        reduced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_pytorch() {
        assert_eq!(broadcast_shapes("t", &[&[2, 3, 4, 5], &[3, 1, 1]]).unwrap(), vec![2, 3, 4, 5]);
        assert_eq!(broadcast_shapes("t", &[&[1], &[2, 1, 3]]).unwrap(), vec![2, 1, 3]);
        assert!(broadcast_shapes("t", &[&[2, 3], &[4, 3]]).is_err());
    }

    #[test]
    fn layouts_merge_dimensions() {
        let same = broadcast_layout(&[2, 3, 4, 5], &[&[2, 3, 4, 5], &[2, 3, 4, 5]]);
        assert_eq!((same.rank, same.modes), (1, [0, 0, 0]));
        let channel = broadcast_layout(&[2, 3, 4, 5], &[&[2, 3, 4, 5], &[1, 3, 1, 1]]);
        assert_eq!(channel.rank, 3);
        assert_eq!(&channel.shape[..3], &[2, 3, 20]);
        assert_eq!(&channel.strides[1][..3], &[0, 1, 0]);
        assert_eq!(channel.modes, [0, 2, 0]);
        let scalar = broadcast_layout(&[2, 3], &[&[2, 3], &[]]);
        assert_eq!(scalar.modes[1], 1);
    }

    #[test]
    fn reduce_layouts() {
        let hw = reduce_layout("t", &[2, 3, 4, 5], &[2, 3, 1, 1]).unwrap();
        assert_eq!((hw.targets, hw.count), (6, 20));
        assert_eq!(hw.kept, vec![(6, 20)]);
        assert_eq!(hw.reduced, vec![(20, 1)]);
        let batch = reduce_layout("t", &[2, 3, 4, 5], &[3, 4, 5]).unwrap();
        assert_eq!(batch.kept, vec![(60, 1)]);
        assert_eq!(batch.reduced, vec![(2, 60)]);
        assert!(reduce_layout("t", &[2, 3], &[2, 2]).is_err());
        let all = reduce_layout("t", &[2, 3], &[]).unwrap();
        assert_eq!((all.targets, all.count), (1, 6));
    }
}
