"""The reports as CSV, in people's columns, through the one CSV writer (formula cells defused).
Percentages are written as percentages ("12.5%"), times in whole seconds."""
from __future__ import annotations

from typing import Iterator

from app.common.csvout import stream_csv


def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def seconds(value: float | None) -> int | str:
    return "" if value is None else round(value)


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def agent_performance_csv(report: dict) -> Iterator[str]:
    codes = report["pause_codes"]
    header = ["Agent", "Calls handled", "Talk time (seconds)", "Wrap-up time (seconds)", "Pause time (seconds)",
              *[f"Pause: {c['label']} (seconds)" for c in codes], "Signed-in time (seconds)", "Contacts", "Sales",
              "Conversion (sales ÷ contacts)", "Occupancy (talk + wrap-up ÷ signed-in time excluding pause)"]

    def line(name: str, figures: dict) -> list:
        paused = {p["code"]: p["seconds"] for p in figures["pause_by_code"]}
        return [name, figures["handled"], seconds(figures["talk_seconds"]), seconds(figures["wrap_seconds"]),
                seconds(figures["paused_seconds"]), *[seconds(paused.get(c["code"], 0)) for c in codes],
                seconds(figures["signed_in_seconds"]), figures["contacts_reached"], figures["sales"],
                percent(figures["conversion"]), percent(figures["occupancy"])]

    rows = [line(a["agent_name"], a) for a in report["agents"]] + [line("All agents", report["total"])]
    return stream_csv(header, rows)


def dispositions_csv(report: dict) -> Iterator[str]:
    rows = [[d["label"], d["count"], percent(d["share"])] for d in report["dispositions"]]
    rows.append(["All handled calls", report["handled"], percent(1.0) if report["handled"] else ""])
    return stream_csv(["Disposition", "Calls", "Share of handled calls"], rows)


def activity_csv(report: dict) -> Iterator[str]:
    header = [f"{'Hour' if report['granularity'] == 'hour' else 'Day'} ({report['timezone']})", "Calls placed", "Answered by a person", "Calls handled",
              "Abandoned", "Abandonment rate (abandoned ÷ answered by a person)", "Talk time (seconds)",
              "Signed-in time (seconds, pause included)",
              "Talk minutes per agent hour (talk minutes ÷ signed-in hours including pause)"]

    def line(label: str, p: dict) -> list:
        return [label, p["calls_placed"], p["human_answered"], p["handled"], p["abandoned"],
                percent(p["abandon_rate"]), seconds(p["talk_seconds"]), seconds(p["signed_in_seconds"]),
                _number(p["talk_minutes_per_agent_hour"])]

    rows = [line(p["label"], p) for p in report["points"]] + [line("Whole range", report["total"])]
    return stream_csv(header, rows)
