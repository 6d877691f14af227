//! The engine's contracts: batching and counters, errors, image interop,
//! sharing a caller's device, kernels on caller buffers, threads,
//! determinism, random fills.

mod support;

use pixgrad::ops::elementwise::{UnaryOp, unary_forward};
use pixgrad::{BufferView, Context, Error, Tensor, wgpu};
use support::*;

#[test]
fn a_chain_of_100_ops_is_one_submit_and_reads_back_once() {
    let ctx = Context::new().unwrap();
    let x = Tensor::rand_uniform(&ctx, &[1, 3, 64, 64], 0.0, 1.0, 1).unwrap().with_grad();
    let before = ctx.stats();
    let mut y = x.clone();
    for i in 0..100 {
        y = if i % 2 == 0 { y.mul_scalar(1.01).unwrap() } else { y.add_scalar(-0.01).unwrap() };
    }
    let recorded = ctx.stats().since(&before);
    assert_eq!((recorded.submits, recorded.readbacks, recorded.dispatches), (0, 0, 100));
    let values = y.to_vec().unwrap();
    let after_read = ctx.stats().since(&before);
    assert_eq!((after_read.submits, after_read.readbacks), (1, 1));
    assert!(values.iter().all(|v| v.is_finite()));

    // Forward + backward of the chain, and a gradient-descent step: still
    // nothing read back until asked.
    let before = ctx.stats();
    let loss = y.square().unwrap().mean().unwrap();
    let grads = loss.backward().unwrap();
    x.add_scaled_in_place(-0.1, grads.get(&x).unwrap()).unwrap();
    let step = ctx.stats().since(&before);
    assert_eq!((step.readbacks, step.submits, step.uploads), (0, 0, 0));
    println!(
        "100-op chain forward: 100 dispatches, 1 submit, 1 readback; backward + update: {} dispatches",
        step.dispatches
    );
}

#[test]
fn batches_are_submitted_past_the_size_bound() {
    let ctx = Context::new().unwrap();
    let mut y = Tensor::zeros(&ctx, &[16]).unwrap();
    let before = ctx.stats();
    for _ in 0..2500 {
        y = y.add_scalar(1.0).unwrap();
    }
    assert_eq!(ctx.stats().since(&before).submits, 2, "one submit per 1024 commands");
    assert_eq!(y.to_vec().unwrap(), vec![2500.0; 16]);
}

#[test]
fn bad_shapes_and_values_are_typed_errors() {
    let ctx = ctx();
    assert!(matches!(Tensor::zeros(&ctx, &[2, 0, 3]), Err(Error::InvalidShape { .. })));
    assert!(matches!(Tensor::zeros(&ctx, &[1; 9]), Err(Error::InvalidShape { .. })));
    assert!(matches!(Tensor::from_slice(&ctx, &[1.0, 2.0], &[3]), Err(Error::InvalidShape { .. })));
    // 256 MiB: over the 128 MiB binding limit of the default limits
    match Tensor::zeros(&ctx, &[1 << 26]) {
        Err(Error::TooLarge { limit_name, .. }) => assert_eq!(limit_name, "max_storage_buffer_binding_size"),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(matches!(Tensor::rand_uniform(&ctx, &[4], f32::NAN, 1.0, 0), Err(Error::InvalidArgument { .. })));
    assert!(matches!(Tensor::rand_normal(&ctx, &[4], 0.0, -1.0, 0), Err(Error::InvalidArgument { .. })));
    assert!(matches!(Tensor::zeros(&ctx, &[4]).unwrap().item(), Err(Error::InvalidShape { .. })));
    let other = Context::new().unwrap();
    let a = Tensor::zeros(&ctx, &[4]).unwrap();
    let b = Tensor::zeros(&other, &[4]).unwrap();
    assert!(matches!(a.add(&b), Err(Error::ContextMismatch { .. })));
    assert!(matches!(a.copy_from(&Tensor::zeros(&ctx, &[5]).unwrap()), Err(Error::ShapeMismatch { .. })));
    // The messages say what to do.
    let message = Error::NoAdapter { tried: "VULKAN".into() }.to_string();
    assert!(message.contains("apt-get install libvulkan1 mesa-vulkan-drivers"), "{message}");
}

#[test]
fn gpu_validation_errors_surface_at_flush() {
    let ctx = Context::new().unwrap();
    // Invalid work recorded directly on the device (a size that is not a
    // multiple of 4 while mapped at creation) is reported, not a panic.
    let _bad = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 3,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: true,
    });
    assert!(matches!(ctx.flush(), Err(Error::Gpu(_))));
    assert!(ctx.flush().is_ok(), "the error is reported once");
}

#[test]
fn images_round_trip_exactly() {
    let ctx = ctx();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/");
    let rgb = image::open(format!("{dir}astronaut.png")).unwrap();
    let gray = image::open(format!("{dir}camera.png")).unwrap();
    let rgba = image::DynamicImage::ImageRgba8(image::open(format!("{dir}chelsea.png")).unwrap().to_rgba8());
    for (img, channels) in [(&rgb, 3), (&gray, 1), (&rgba, 4)] {
        let t = Tensor::from_image(&ctx, img).unwrap();
        assert_eq!(t.shape(), &[1, channels, img.height() as usize, img.width() as usize]);
        let back = t.to_image().unwrap();
        assert_eq!(back.as_bytes(), img.as_bytes(), "8-bit round trip is exact");
        assert_eq!(back.color(), img.color());
    }
    // Planar layout and v / 255 scaling.
    let t = Tensor::from_image(&ctx, &rgb).unwrap().to_vec().unwrap();
    let raw = rgb.as_bytes();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    for (pixel, channel) in [(0usize, 0usize), (1234, 1), (w * h - 1, 2)] {
        assert_eq!(t[channel * w * h + pixel], raw[pixel * 3 + channel] as f32 / 255.0);
    }
    // Out-of-range values are clamped when saved.
    let img = Tensor::from_slice(&ctx, &[-0.5, 0.5, 2.0, f32::NAN], &[1, 1, 2, 2]).unwrap().to_image().unwrap();
    assert_eq!(img.as_bytes(), &[0, 128, 255, 0]);
    assert!(matches!(Tensor::zeros(&ctx, &[2, 3, 4, 4]).unwrap().to_image(), Err(Error::InvalidShape { .. })));
}

/// A caller's own device: pixgrad shares it, and its kernels run on the
/// caller's buffers, at offsets, in the caller's encoder.
#[test]
fn kernels_run_on_a_callers_device_buffers_and_encoder() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default())).unwrap();
    let (device, queue) = pollster::block_on(adapter.request_device(&Default::default())).unwrap();
    let ctx = Context::from_wgpu(device.clone(), queue.clone());

    let data: Vec<f32> = (0..16).map(|i| i as f32).collect();
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("caller's"),
        size: 64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&buffer, 0, bytemuck::cast_slice(&data));
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("caller's output"),
        size: 64,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    let x = BufferView { buffer: &buffer, offset: 4 };
    let y = BufferView { buffer: &out, offset: 8 };
    unary_forward(&ctx, Some(&mut encoder), UnaryOp::Square, [0.0; 2], x, y, 4).unwrap();
    // Ranges outside a buffer are refused before anything is recorded.
    let too_far = BufferView { buffer: &out, offset: 14 };
    assert!(unary_forward(&ctx, Some(&mut encoder), UnaryOp::Neg, [0.0; 2], x, too_far, 4).is_err());
    let aliased = BufferView { buffer: &buffer, offset: 0 };
    assert!(unary_forward(&ctx, Some(&mut encoder), UnaryOp::Neg, [0.0; 2], x, aliased, 4).is_err());
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    encoder.copy_buffer_to_buffer(&out, 0, &readback, 0, 64);
    queue.submit([encoder.finish()]);
    readback.slice(..).map_async(wgpu::MapMode::Read, |r| r.unwrap());
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&readback.slice(..).get_mapped_range().unwrap());
    assert_eq!(&got[8..12], &[16.0, 25.0, 36.0, 49.0]);

    // Tensors on the shared device work as on any other.
    let t = Tensor::from_slice(&ctx, &[1.0, 2.0], &[2]).unwrap();
    assert_eq!(t.mul(&t).unwrap().to_vec().unwrap(), vec![1.0, 4.0]);
}

#[test]
fn threads_share_one_context_or_use_their_own() {
    let shared = ctx();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let own = Context::new().unwrap();
                for ctx in [&shared, &own] {
                    let x = Tensor::full(ctx, &[1, 3, 32, 32], i as f32).unwrap().with_grad();
                    let loss = x.square().unwrap().sum().unwrap();
                    let g = loss.backward().unwrap();
                    assert_eq!(loss.item().unwrap(), (i * i * 3 * 32 * 32) as f32);
                    assert!(g.get(&x).unwrap().to_vec().unwrap().iter().all(|&v| v == 2.0 * i as f32));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn forward_and_backward_are_bitwise_deterministic() {
    let run = || {
        let ctx = Context::new().unwrap();
        let img = Tensor::rand_uniform(&ctx, &[2, 3, 96, 80], 0.0, 1.0, 5).unwrap();
        let gain = Tensor::full(&ctx, &[1, 3, 1, 1], 1.1).unwrap().with_grad();
        let bias = Tensor::full(&ctx, &[2, 1, 1, 1], 0.05).unwrap().with_grad();
        let gamma = Tensor::full(&ctx, &[], 0.9).unwrap().with_grad();
        let out = img.mul(&gain).unwrap().add(&bias).unwrap().clamp(Some(0.0), Some(1.0)).unwrap();
        let out = out.pow(&gamma).unwrap();
        let loss = out.sub(&img).unwrap().abs().unwrap().mean_hw().unwrap().sum().unwrap();
        let g = loss.backward().unwrap();
        let mut bits: Vec<u32> = out.to_vec().unwrap().iter().map(|v| v.to_bits()).collect();
        for p in [&gain, &bias, &gamma] {
            bits.extend(g.get(p).unwrap().to_vec().unwrap().iter().map(|v| v.to_bits()));
        }
        bits
    };
    assert_eq!(run(), run());
}

#[test]
fn random_fills_are_seeded_and_distributed() {
    let ctx = ctx();
    let n = 1 << 20;
    let u = Tensor::rand_uniform(&ctx, &[n], -2.0, 3.0, 9).unwrap().to_vec().unwrap();
    assert!(u.iter().all(|&v| (-2.0..3.0).contains(&v)));
    let mean = u.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    assert!((mean - 0.5).abs() < 0.01, "uniform mean {mean}");
    let z = Tensor::rand_normal(&ctx, &[n], 1.0, 2.0, 9).unwrap().to_vec().unwrap();
    let mean = z.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
    let var = z.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
    assert!((mean - 1.0).abs() < 0.01 && (var.sqrt() - 2.0).abs() < 0.01, "normal {mean} {var}");
    assert!(z.iter().all(|v| v.is_finite()));
    let again = Tensor::rand_normal(&ctx, &[n], 1.0, 2.0, 9).unwrap().to_vec().unwrap();
    assert_eq!(z, again);
    let other = Tensor::rand_normal(&ctx, &[n], 1.0, 2.0, 10).unwrap().to_vec().unwrap();
    assert_ne!(z, other);
    assert_eq!(Tensor::full(&ctx, &[3], 2.5).unwrap().to_vec().unwrap(), vec![2.5; 3]);
    assert_eq!(Tensor::ones(&ctx, &[2]).unwrap().to_vec().unwrap(), vec![1.0; 2]);
}

#[test]
fn adapter_and_limits_are_reported() {
    let ctx = ctx();
    let info = ctx.adapter_info();
    println!("adapter: {} ({:?}, {:?})", info.name, info.backend, info.device_type);
    // CI names the adapter and backend it installed, so a silent fallback fails.
    if let Ok(expected) = std::env::var("PIXGRAD_EXPECT_ADAPTER") {
        assert!(info.name.contains(&expected), "adapter {} is not the expected {expected}", info.name);
    }
    if let Ok(expected) = std::env::var("PIXGRAD_EXPECT_BACKEND") {
        let backend = format!("{:?}", info.backend).to_lowercase();
        assert_eq!(backend, expected.to_lowercase(), "backend");
    }
    assert!(ctx.limits().max_storage_buffer_binding_size >= 128 << 20);
}

/// A buffer recycled by the pool while recorded work still uses it gets
/// its new contents after that work, never before.
#[test]
fn uploads_into_recycled_buffers_land_after_recorded_work() {
    let ctx = Context::new().unwrap();
    let x = Tensor::from_slice(&ctx, &[1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
    let mut outputs = Vec::new();
    for round in 0..50 {
        let t = x.mul_scalar(round as f32).unwrap(); // recorded write into a pooled buffer
        let y = t.add_scalar(1.0).unwrap(); // recorded read of it
        drop(t); // its buffer goes back to the pool, the work not yet submitted
        let fresh = Tensor::from_slice(&ctx, &[-7.0; 4], &[4]).unwrap(); // may take that buffer
        outputs.push((round, y, fresh));
    }
    for (round, y, fresh) in outputs {
        let r = round as f32;
        assert_eq!(y.to_vec().unwrap(), vec![r + 1.0, 2.0 * r + 1.0, 3.0 * r + 1.0, 4.0 * r + 1.0]);
        assert_eq!(fresh.to_vec().unwrap(), vec![-7.0; 4]);
    }
}

/// Past 65535 workgroups (16.7 M elements) the dispatch grid wraps into a
/// second dimension; every element is still visited once.
#[test]
fn large_tensors_wrap_the_dispatch_grid() {
    let ctx = ctx();
    let n = 65535 * 256 + 4097;
    let x = Tensor::full(&ctx, &[n], 1.0).unwrap();
    let y = x.add_scalar(2.0).unwrap();
    let v = y.to_vec().unwrap();
    assert!(v.iter().all(|&e| e == 3.0));
    let sum = y.sum().unwrap().item().unwrap() as f64;
    assert!((sum - 3.0 * n as f64).abs() <= 4.0, "{sum}");
}

#[test]
fn adapter_limits_on_request_and_cached_buffers_released() {
    use pixgrad::{ContextOptions, LimitsPreset};
    let ctx = Context::with_options(ContextOptions { limits: LimitsPreset::Adapter, ..Default::default() }).unwrap();
    assert!(
        ctx.limits().max_storage_buffer_binding_size
            >= pixgrad::wgpu::Limits::default().max_storage_buffer_binding_size
    );
    let t = Tensor::full(&ctx, &[1, 3, 64, 64], 0.5).unwrap();
    assert_eq!(t.mean().unwrap().item().unwrap(), 0.5);
    drop(t);
    assert!(ctx.memory().cached > 0, "dropped buffers are kept for reuse");
    ctx.release_cached();
    assert_eq!(ctx.memory().cached, 0);
    assert_eq!(ctx.memory().live, 0);
}
