//! Composes each WGSL kernel under `shaders/` with the snippets it imports.
//!
//! A kernel names its snippets in `// import lib/<name>.wgsl` lines; a
//! snippet may import others. Every kernel gets the prelude
//! (`shaders/lib/prelude.wgsl`) first, then its imports in order (each once,
//! a snippet's own imports before it), then itself. Files under
//! `shaders/lib/` are snippets, every other `.wgsl` file is a kernel.
//!
//! Writes `$OUT_DIR/shaders.rs`: the macro `shader_source!("family/kernel.wgsl")`,
//! which expands to the composed source (so a misspelt kernel fails to
//! compile), and `KERNELS`, every kernel with its source, which the shader
//! validation test walks.

use std::path::{Path, PathBuf};
use std::{env, fs};

const PRELUDE: &str = "lib/prelude.wgsl";
const IMPORT: &str = "// import ";

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("shaders");
    println!("cargo:rerun-if-changed=shaders");
    let mut kernels = Vec::new();
    collect_kernels(&root, &root, &mut kernels);
    kernels.sort();
    let mut arms = String::new();
    let mut list = String::new();
    for kernel in &kernels {
        let mut order = Vec::new();
        resolve(&root, PRELUDE, &mut order, &mut Vec::new());
        resolve(&root, kernel, &mut order, &mut Vec::new());
        let parts: Vec<String> =
            order.iter().map(|file| format!("include_str!({:?})", root.join(file).display().to_string())).collect();
        arms += &format!("    ({kernel:?}) => {{ concat!({}) }};\n", parts.join(", "));
        list += &format!("    ({kernel:?}, shader_source!({kernel:?})),\n");
    }
    let out = format!(
        "/// The composed source of a kernel (build.rs).\nmacro_rules! shader_source {{\n{arms}}}\n\n\
         /// Every kernel under shaders/ and its composed source.\n\
         #[allow(dead_code)]\npub(crate) const KERNELS: &[(&str, &str)] = &[\n{list}];\n"
    );
    fs::write(PathBuf::from(env::var("OUT_DIR").unwrap()).join("shaders.rs"), out).unwrap();
}

/// Kernel paths relative to `root` (with `/`), skipping `lib/`.
fn collect_kernels(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        if path.is_dir() {
            if relative != "lib" {
                collect_kernels(root, &path, out);
            }
        } else if relative.ends_with(".wgsl") {
            out.push(relative);
        }
    }
}

/// Appends `file`'s imports (depth first) and then `file` to `order`, each once.
fn resolve(root: &Path, file: &str, order: &mut Vec<String>, stack: &mut Vec<String>) {
    if order.iter().any(|f| f == file) {
        return;
    }
    assert!(!stack.iter().any(|f| f == file), "shaders/{file}: circular import through {stack:?}");
    let source = fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("shaders/{file}: {e}"));
    stack.push(file.to_string());
    for line in source.lines() {
        if let Some(import) = line.strip_prefix(IMPORT) {
            let import = import.trim();
            assert!(import.starts_with("lib/"), "shaders/{file}: imports {import}, not a snippet under lib/");
            resolve(root, import, order, stack);
        }
    }
    stack.pop();
    order.push(file.to_string());
}
