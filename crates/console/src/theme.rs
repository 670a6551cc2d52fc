//! Colour themes: semantic slots (`accent`, `ok`, `warn`, `error`, `muted`, `selection`…) read
//! from `themes/*.toml`, built in and overridable from `<config dir>/themes/`. Meaning never rides
//! on colour alone: every view pairs a colour with a glyph or a word, so `mono` loses nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

const BUILT_IN: &[(&str, &str)] = &[
    ("default", include_str!("../../../themes/default.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    ("dark", include_str!("../../../themes/dark.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../../themes/mono.toml")),
];

/// One slot as written in TOML: `accent = { fg = "cyan", bold = true }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    underlined: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeSpec {
    text: SlotSpec,
    muted: SlotSpec,
    accent: SlotSpec,
    ok: SlotSpec,
    warn: SlotSpec,
    error: SlotSpec,
    selection: SlotSpec,
    header: SlotSpec,
    badge: SlotSpec,
    border: SlotSpec,
    title: SlotSpec,
    code: SlotSpec,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub muted: Style,
    pub accent: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub selection: Style,
    pub header: Style,
    pub badge: Style,
    pub border: Style,
    pub title: Style,
    pub code: Style,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme {name}: {detail}; fix the file or delete it to use the built-in theme")]
    Invalid { name: String, detail: String },
}

fn style(slot: &SlotSpec, theme: &str, slot_name: &str) -> Result<Style, ThemeError> {
    let colour = |value: &Option<String>| -> Result<Option<Color>, ThemeError> {
        value
            .as_deref()
            .map(|text| {
                Color::from_str(text).map_err(|_| ThemeError::Invalid {
                    name: theme.into(),
                    detail: format!(
                        "`{slot_name}` has colour `{text}`; use a name like \"cyan\", \"#1e90ff\" or an index 0-255"
                    ),
                })
            })
            .transpose()
    };
    let mut style = Style::default();
    if let Some(fg) = colour(&slot.fg)? {
        style = style.fg(fg);
    }
    if let Some(bg) = colour(&slot.bg)? {
        style = style.bg(bg);
    }
    for (on, modifier) in [
        (slot.bold, Modifier::BOLD),
        (slot.dim, Modifier::DIM),
        (slot.reversed, Modifier::REVERSED),
        (slot.underlined, Modifier::UNDERLINED),
    ] {
        if on {
            style = style.add_modifier(modifier);
        }
    }
    Ok(style)
}

impl Theme {
    pub fn parse(name: &str, text: &str) -> Result<Theme, ThemeError> {
        let spec: ThemeSpec = toml::from_str(text).map_err(|e| ThemeError::Invalid {
            name: name.into(),
            detail: e.message().to_string(),
        })?;
        Ok(Theme {
            name: name.into(),
            text: style(&spec.text, name, "text")?,
            muted: style(&spec.muted, name, "muted")?,
            accent: style(&spec.accent, name, "accent")?,
            ok: style(&spec.ok, name, "ok")?,
            warn: style(&spec.warn, name, "warn")?,
            error: style(&spec.error, name, "error")?,
            selection: style(&spec.selection, name, "selection")?,
            header: style(&spec.header, name, "header")?,
            badge: style(&spec.badge, name, "badge")?,
            border: style(&spec.border, name, "border")?,
            title: style(&spec.title, name, "title")?,
            code: style(&spec.code, name, "code")?,
        })
    }

    /// The monochrome theme (`NO_COLOR`, and the fallback when nothing else loads).
    pub fn mono() -> Theme {
        Theme::parse("mono", BUILT_IN[4].1).unwrap_or_else(|_| Theme {
            name: "mono".into(),
            text: Style::default(),
            muted: Style::default(),
            accent: Style::default().add_modifier(Modifier::BOLD),
            ok: Style::default(),
            warn: Style::default().add_modifier(Modifier::BOLD),
            error: Style::default().add_modifier(Modifier::BOLD),
            selection: Style::default().add_modifier(Modifier::REVERSED),
            header: Style::default().add_modifier(Modifier::REVERSED),
            badge: Style::default().add_modifier(Modifier::BOLD),
            border: Style::default(),
            title: Style::default().add_modifier(Modifier::BOLD),
            code: Style::default(),
        })
    }
}

/// Every theme by name: the built-in ones, then the user's from `<config dir>/themes/*.toml`
/// (same name replaces).
#[derive(Debug, Clone)]
pub struct Themes {
    themes: BTreeMap<String, Theme>,
}

impl Themes {
    /// The built-in themes only.
    pub fn built_in() -> Themes {
        let themes = BUILT_IN
            .iter()
            .filter_map(|(name, text)| Theme::parse(name, text).ok())
            .map(|theme| (theme.name.clone(), theme))
            .collect();
        Themes { themes }
    }

    /// Adds the user's themes; returns what could not be read (shown as a toast, never fatal).
    pub fn load_user_dir(&mut self, dir: &Path) -> Vec<String> {
        let mut problems = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return problems;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                continue;
            }
            let Some(name) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            match std::fs::read_to_string(&path) {
                Ok(text) => match Theme::parse(&name, &text) {
                    Ok(theme) => {
                        self.themes.insert(name, theme);
                    }
                    Err(error) => problems.push(format!("{}: {error}", path.display())),
                },
                Err(error) => problems.push(format!(
                    "{}: cannot read it ({error}); check its permissions",
                    path.display()
                )),
            }
        }
        problems
    }

    pub fn get(&self, name: &str) -> Option<&Theme> {
        self.themes.get(name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.themes.keys().map(String::as_str).collect()
    }

    /// The theme after `current`, wrapping around.
    pub fn next_after(&self, current: &str) -> Option<&Theme> {
        self.themes
            .range::<str, _>((
                std::ops::Bound::Excluded(current),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .or_else(|| self.themes.iter().next())
            .map(|(_, theme)| theme)
    }
}

/// Sets `theme = "NAME"` in the config file at `path`, keeping every other line (comments,
/// other keys, tables): a top-level `theme` line is replaced, else one is added before the
/// first table. A file that would not parse afterwards is left as it is. Written atomically.
pub fn save_theme_choice(path: &Path, name: &str) -> std::io::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error),
    };
    let setting = format!("theme = {}", toml::Value::String(name.to_string()));
    let mut lines: Vec<&str> = text.lines().collect();
    let tables_start = lines
        .iter()
        .position(|line| line.trim_start().starts_with('['))
        .unwrap_or(lines.len());
    let existing = lines[..tables_start].iter().position(|line| {
        line.trim_start()
            .strip_prefix("theme")
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    });
    match existing {
        Some(index) => lines[index] = &setting,
        None => lines.insert(tables_start, &setting),
    }
    let mut updated = lines.join("\n");
    updated.push('\n');
    let parsed: Result<toml::Table, _> = toml::from_str(&updated);
    if parsed
        .ok()
        .and_then(|t| t.get("theme")?.as_str().map(str::to_string))
        != Some(name.into())
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not valid TOML; fix it by hand",
        ));
    }
    ficus_files::write_atomic(path, updated.as_bytes(), ficus_files::Access::Default)
}

/// Which theme to start with: `NO_COLOR` (any non-empty value) wins, then the configured name.
pub fn initial_theme_name(no_color: Option<&str>, configured: Option<&str>) -> String {
    if no_color.is_some_and(|v| !v.is_empty()) {
        return "mono".into();
    }
    configured.unwrap_or("default").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses() {
        for (name, text) in BUILT_IN {
            let theme = Theme::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(theme.name, *name);
        }
        assert_eq!(Themes::built_in().names().len(), BUILT_IN.len());
    }

    #[test]
    fn mono_uses_no_colour() {
        let mono = Theme::mono();
        for style in [
            mono.text,
            mono.accent,
            mono.ok,
            mono.warn,
            mono.error,
            mono.selection,
        ] {
            assert!(style.fg.is_none_or(|c| c == Color::Reset));
            assert!(style.bg.is_none_or(|c| c == Color::Reset));
        }
        assert!(mono.selection.add_modifier.contains(Modifier::REVERSED));
    }

    /// WCAG relative luminance of an sRGB colour.
    fn luminance(colour: Color) -> f64 {
        let Color::Rgb(r, g, b) = colour else {
            panic!("{colour:?} is not a truecolor value")
        };
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    fn contrast(a: Color, b: Color) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// The truecolor themes stay readable (WCAG AA, 4.5:1 for text) on the terminal grounds
    /// they are meant for: plain white and the common light (GitHub, Solarized) or dark
    /// (GitHub, VS Code, One Dark) backgrounds, and on their own coloured bars. A selected
    /// row is drawn entirely in the selection style, so only its own pair counts there.
    #[test]
    fn truecolor_themes_keep_text_readable_on_their_grounds() {
        let grounds = [
            ("light", ["#ffffff", "#f6f8fa", "#fdf6e3", "#fafafa"]),
            ("dark", ["#000000", "#0d1117", "#1e1e1e", "#282c34"]),
        ];
        let themes = Themes::built_in();
        for (name, backgrounds) in grounds {
            let theme = themes.get(name).expect("built-in theme");
            let on_ground = [
                ("text", theme.text),
                ("muted", theme.muted),
                ("accent", theme.accent),
                ("ok", theme.ok),
                ("warn", theme.warn),
                ("error", theme.error),
                ("title", theme.title),
                ("code", theme.code),
            ];
            for background in backgrounds {
                let ground = Color::from_str(background).expect("valid colour");
                for (slot, style) in on_ground {
                    let fg = style.fg.expect("truecolor themes set every foreground");
                    let ratio = contrast(fg, ground);
                    assert!(
                        ratio >= 4.5,
                        "{name}: {slot} on {background} has contrast {ratio:.2}, below 4.5"
                    );
                }
            }
            for (slot, style) in [
                ("selection", theme.selection),
                ("header", theme.header),
                ("badge", theme.badge),
            ] {
                let (fg, bg) = (style.fg.expect("fg"), style.bg.expect("bg"));
                let ratio = contrast(fg, bg);
                assert!(ratio >= 4.5, "{name}: {slot} has contrast {ratio:.2}");
            }
        }
    }

    #[test]
    fn a_chosen_theme_is_saved_in_config_toml_keeping_everything_else() {
        let dir = std::env::temp_dir().join(format!("ficus-theme-{}", std::process::id()));
        let path = dir.join("nested").join("config.toml");
        // No file yet: created with the one setting.
        save_theme_choice(&path, "light").expect("created");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "theme = \"light\"\n"
        );
        // An existing file: the theme line is replaced; comments, keys and tables stay.
        let original = "# my settings\ntenant = \"contoso.onmicrosoft.com\"\ntheme = \"dark\"\n\n[keys]\ntheme = \"not this one\"\n";
        std::fs::write(&path, original).expect("write");
        save_theme_choice(&path, "high-contrast").expect("saved");
        let saved = std::fs::read_to_string(&path).expect("read");
        assert_eq!(
            saved,
            original.replace("theme = \"dark\"", "theme = \"high-contrast\"")
        );
        // No theme line before the tables: one is added before them.
        std::fs::write(&path, "tenant = \"x\"\n[keys]\nq = \"quit\"\n").expect("write");
        save_theme_choice(&path, "mono").expect("saved");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "tenant = \"x\"\ntheme = \"mono\"\n[keys]\nq = \"quit\"\n"
        );
        // A broken file is not touched.
        std::fs::write(&path, "tenant = \n").expect("write");
        assert!(save_theme_choice(&path, "light").is_err());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "tenant = \n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn default_theme_stays_on_the_16_ansi_colours() {
        let theme = Themes::built_in()
            .get("default")
            .cloned()
            .expect("default exists");
        // The selected row swaps the terminal's own colours, with each coloured word reset
        // first, so it reads on any palette (light or dark).
        assert_eq!(theme.selection.fg, Some(Color::Reset));
        assert_eq!(theme.selection.bg, Some(Color::Reset));
        assert!(theme.selection.add_modifier.contains(Modifier::REVERSED));
        for style in [
            theme.text,
            theme.muted,
            theme.accent,
            theme.ok,
            theme.warn,
            theme.error,
        ] {
            for colour in [style.fg, style.bg].into_iter().flatten() {
                assert!(
                    !matches!(colour, Color::Rgb(..) | Color::Indexed(_)),
                    "{colour:?} is not one of the 16"
                );
            }
        }
    }

    /// A terminal palette: the 16 ANSI colours, then the default foreground and background.
    struct Palette {
        name: &'static str,
        ansi: [&'static str; 16],
        fg: &'static str,
        bg: &'static str,
    }

    const SOLARIZED_DARK: Palette = Palette {
        name: "Solarized dark",
        ansi: [
            "#073642", "#dc322f", "#859900", "#b58900", "#268bd2", "#d33682", "#2aa198", "#eee8d5",
            "#002b36", "#cb4b16", "#586e75", "#657b83", "#839496", "#6c71c4", "#93a1a1", "#fdf6e3",
        ],
        fg: "#839496",
        bg: "#002b36",
    };
    const SOLARIZED_LIGHT: Palette = Palette {
        name: "Solarized light",
        ansi: SOLARIZED_DARK.ansi,
        fg: "#657b83",
        bg: "#fdf6e3",
    };
    const XTERM: Palette = Palette {
        name: "xterm",
        ansi: [
            "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
            "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
        ],
        fg: "#000000",
        bg: "#ffffff",
    };

    /// The colour a terminal with `palette` draws for a foreground (`None`/`Reset`: its own).
    fn resolve(palette: &Palette, colour: Option<Color>) -> Color {
        let index = match colour {
            None | Some(Color::Reset) => return Color::from_str(palette.fg).expect("fg"),
            Some(Color::Black) => 0,
            Some(Color::Red) => 1,
            Some(Color::Green) => 2,
            Some(Color::Yellow) => 3,
            Some(Color::Blue) => 4,
            Some(Color::Magenta) => 5,
            Some(Color::Cyan) => 6,
            Some(Color::Gray) => 7,
            Some(Color::DarkGray) => 8,
            Some(Color::LightRed) => 9,
            Some(Color::LightGreen) => 10,
            Some(Color::LightYellow) => 11,
            Some(Color::LightBlue) => 12,
            Some(Color::LightMagenta) => 13,
            Some(Color::LightCyan) => 14,
            Some(Color::White) => 15,
            Some(other) => panic!("{other:?} is not one of the 16"),
        };
        Color::from_str(palette.ansi[index]).expect("palette colour")
    }

    /// Muted text (hints, secondary columns) must stay readable on palettes whose bright
    /// black is the background (Solarized dark: colour 8 == base03): it reads at least as
    /// well as the palette's own text does, and at WCAG AA (4.5:1) where that text does.
    #[test]
    fn default_theme_muted_text_reads_on_solarized_and_xterm_palettes() {
        let theme = Themes::built_in()
            .get("default")
            .cloned()
            .expect("default exists");
        for palette in [SOLARIZED_DARK, SOLARIZED_LIGHT, XTERM] {
            let ground = Color::from_str(palette.bg).expect("bg");
            let text = contrast(resolve(&palette, theme.text.fg), ground);
            for (slot, style) in [("muted", theme.muted), ("border", theme.border)] {
                let ratio = contrast(resolve(&palette, style.fg), ground);
                assert!(
                    ratio >= text.min(4.5),
                    "{slot} on {}: contrast {ratio:.2}, the palette's text has {text:.2}",
                    palette.name
                );
            }
        }
        // Still told apart from plain text, by the terminal's faint rendering.
        assert!(theme.muted.add_modifier.contains(Modifier::DIM));
    }

    #[test]
    fn no_color_selects_mono_and_bad_colours_are_explained() {
        assert_eq!(initial_theme_name(Some("1"), Some("dark")), "mono");
        assert_eq!(initial_theme_name(Some(""), Some("dark")), "dark");
        assert_eq!(initial_theme_name(None, None), "default");
        let error = Theme::parse("x", &BUILT_IN[0].1.replace("\"cyan\"", "\"sky\""))
            .expect_err("unknown colour");
        assert!(error.to_string().contains("sky"));
    }

    #[test]
    fn user_themes_override_and_add() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("mine.toml"), BUILT_IN[2].1).expect("write");
        std::fs::write(dir.path().join("broken.toml"), "text = 3").expect("write");
        let mut themes = Themes::built_in();
        let problems = themes.load_user_dir(dir.path());
        assert!(themes.get("mine").is_some());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("broken.toml"));
        assert_eq!(
            themes.next_after("mono").map(|t| t.name.as_str()),
            Some("dark")
        );
        assert_eq!(
            themes.next_after("dark").map(|t| t.name.as_str()),
            Some("default")
        );
    }
}
