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

/// The registered font: its path and its bytes.
type Loaded = (String, &'static [u8]);

static LOADED: OnceLock<Result<Loaded, String>> = OnceLock::new();

/// The path of the registered font, or why there is none. Loads it on first call.
pub fn plot_font() -> Result<&'static str, &'static str> {
    LOADED
        .get_or_init(load)
        .as_ref()
        .map(|(path, _)| path.as_str())
        .map_err(String::as_str)
}

/// The bytes of the registered font (for the bitmap text of [`super::glyphs`]).
pub(crate) fn font_bytes() -> Option<&'static [u8]> {
    LOADED.get_or_init(load).as_ref().ok().map(|(_, b)| *b)
}

fn load() -> Result<Loaded, String> {
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
            return Ok((path.to_string(), bytes));
        }
    }
    Err(format!(
        "no TrueType font found (set DMLFT_PLOT_FONT or install fonts-dejavu-core; looked in {}); \
         plots are written without text",
        CANDIDATES.join(", ")
    ))
}

/// Width in pixels of `text` at font size `size` as the plots lay it out (the registered
/// font's advances and kerning; 0.6 em per character without a font).
pub fn text_width(size: f64, text: &str) -> f64 {
    super::layout::measure(size, text)
}
