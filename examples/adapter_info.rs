//! Prints the adapter pixgrad picks on this machine, and fails when there is
//! none (the error names the fix).
//!
//! ```text
//! cargo run --example adapter_info
//! ```

fn main() -> Result<(), pixgrad::Error> {
    let ctx = pixgrad::Context::new()?;
    let info = ctx.adapter_info();
    println!("adapter: {}", info.name);
    println!("backend: {:?}, type: {:?}, driver: {} {}", info.backend, info.device_type, info.driver, info.driver_info);
    let limits = ctx.limits();
    println!(
        "limits: {} MiB per storage binding, {} storage buffers per stage",
        limits.max_storage_buffer_binding_size >> 20,
        limits.max_storage_buffers_per_shader_stage
    );
    Ok(())
}
