"""Turnout's themes: the only place colours are written down.

Each theme sets the domain variables the TUI's CSS uses (`$slot-blue`,
`$slot-green`, `$canary`, `$health-ok`, `$health-bad`, `$health-warn`,
`$flag-on`, `$flag-off`, `$danger`). The ANSI theme uses the terminal's own
16 colours for plain SSH sessions without truecolor.
"""

from __future__ import annotations

from textual.theme import Theme

DOMAIN_VARIABLES = ("slot-blue", "slot-green", "canary", "health-ok", "health-bad",
                    "health-warn", "flag-on", "flag-off", "danger")

DARK = Theme(
    name="turnout-dark", primary="#4C8DFF", secondary="#36B37E", accent="#FFAB00",
    warning="#FFAB00", error="#FF5630", success="#36B37E", foreground="#E6EDF3",
    background="#0D1117", surface="#161B22", panel="#21262D", dark=True,
    variables={"slot-blue": "#4C8DFF", "slot-green": "#36B37E", "canary": "#FFAB00",
               "health-ok": "#36B37E", "health-bad": "#FF5630", "health-warn": "#FFAB00",
               "flag-on": "#36B37E", "flag-off": "#8B949E", "danger": "#B62324"},
)

LIGHT = Theme(
    name="turnout-light", primary="#0B57D0", secondary="#137333", accent="#B06000",
    warning="#B06000", error="#C5221F", success="#137333", foreground="#1F2328",
    background="#FFFFFF", surface="#F6F8FA", panel="#EAEEF2", dark=False,
    variables={"slot-blue": "#0B57D0", "slot-green": "#137333", "canary": "#B06000",
               "health-ok": "#137333", "health-bad": "#C5221F", "health-warn": "#B06000",
               "flag-on": "#137333", "flag-off": "#57606A", "danger": "#C5221F"},
)

HIGH_CONTRAST = Theme(
    name="turnout-high-contrast", primary="#00BFFF", secondary="#00FF7F", accent="#FFFF00",
    warning="#FFFF00", error="#FF3030", success="#00FF7F", foreground="#FFFFFF",
    background="#000000", surface="#000000", panel="#1A1A1A", dark=True,
    variables={"slot-blue": "#00BFFF", "slot-green": "#00FF7F", "canary": "#FFFF00",
               "health-ok": "#00FF7F", "health-bad": "#FF3030", "health-warn": "#FFFF00",
               "flag-on": "#00FF7F", "flag-off": "#C0C0C0", "danger": "#FF3030"},
)

ANSI = Theme(
    name="turnout-ansi", primary="ansi_blue", secondary="ansi_green", accent="ansi_yellow",
    warning="ansi_yellow", error="ansi_red", success="ansi_green", foreground="ansi_default",
    background="ansi_default", surface="ansi_default", panel="ansi_default", dark=True, ansi=True,
    variables={"slot-blue": "ansi_blue", "slot-green": "ansi_green", "canary": "ansi_yellow",
               "health-ok": "ansi_green", "health-bad": "ansi_red", "health-warn": "ansi_yellow",
               "flag-on": "ansi_green", "flag-off": "ansi_bright_black", "danger": "ansi_red",
               "ansi-background": "ansi_black", "ansi-foreground": "ansi_white",
               "block-cursor-foreground": "ansi_black", "block-cursor-background": "ansi_white"},
)

THEMES: tuple[Theme, ...] = (DARK, LIGHT, HIGH_CONTRAST, ANSI)
"""Every Turnout theme, registered by the app at start."""

DOMAIN_ROLES = {"slot-blue": "primary", "slot-green": "success", "canary": "warning",
                "health-ok": "success", "health-bad": "error", "health-warn": "warning",
                "flag-on": "success", "flag-off": "foreground-muted", "danger": "error"}
"""For a theme that does not set a domain variable (Textual's own themes), the theme colour
it takes instead: each is chosen by the theme's author to be legible on its background."""


def domain_defaults(theme: Theme) -> dict[str, str]:
    """The domain variables of any theme, from its own colours where it does not set them."""
    if DOMAIN_ROLES.keys() <= theme.variables.keys():
        return {}  # all its own (Turnout's themes): no second colour system to generate
    colours = theme.to_color_system().generate()
    return {name: colours[role] for name, role in DOMAIN_ROLES.items() if role in colours}
