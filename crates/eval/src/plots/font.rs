//! Run-time font for plot text. plotters is built with its `ab_glyph` feature (pure Rust, no
//! fontconfig / freetype), which draws only fonts registered by the program; we register the
//! first TrueType file found among `$DMLFT_PLOT_FONT` and well-known system paths, once per
//! process, as the `sans-serif` family. No font file is shipped with the crate.

use std::sync::OnceLock;

/// Where fonts usually are (Debian/Ubuntu, Fedora, Arch, macOS, Windows).
const CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

static LOADED: OnceLock<Result<String, String>> = OnceLock::new();

/// The path of the registered font, or why there is none. Loads it on first call.
pub fn plot_font() -> Result<&'static str, &'static str> {
    LOADED
        .get_or_init(load)
        .as_ref()
        .map(String::as_str)
        .map_err(String::as_str)
}

fn load() -> Result<String, String> {
    let from_env = std::env::var("DMLFT_PLOT_FONT").ok();
    let paths = from_env
        .iter()
        .map(String::as_str)
        .chain(CANDIDATES.iter().copied());
    for path in paths {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        // plotters keeps registered fonts for the whole process and wants 'static bytes:
        // leaked once (OnceLock), a few hundred KB.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        if plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, bytes)
            .is_ok()
        {
            return Ok(path.to_string());
        }
    }
    Err(format!(
        "no TrueType font found (set DMLFT_PLOT_FONT or install fonts-dejavu-core; looked in {}); \
         plots are written without text",
        CANDIDATES.join(", ")
    ))
}
