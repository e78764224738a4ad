//! Binary and package sizes: the file Lambda runs (`bootstrap`), and the zip that is uploaded.

use std::io::{Cursor, Write};
use std::path::Path;

use anyhow::Context;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub binary: u64,
    /// The binary alone in a zip as `bootstrap`, deflated, as a deployment package holds it.
    pub zipped: u64,
    /// No symbol table left (the release profile strips).
    pub stripped: bool,
}

/// The sizes of the binary at `path`; `None` if it is not there.
pub fn measure(path: &Path) -> anyhow::Result<Option<Size>> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)?;
    zip.write_all(&bytes)?;
    let zipped = zip.finish()?.into_inner().len() as u64;
    Ok(Some(Size {
        binary: bytes.len() as u64,
        zipped,
        stripped: !has_symbol_table(&bytes),
    }))
}

/// Whether an ELF file still has a `.symtab` section: its name appears in the section-name
/// table only then. A byte search is enough for that one name.
fn has_symbol_table(elf: &[u8]) -> bool {
    elf.windows(8).any(|w| w == b".symtab\0")
}
