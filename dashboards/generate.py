#!/usr/bin/env python3
"""Writes the Grafana dashboards of dashboards/json/ from one description (run after editing; commit both).

Every panel queries InfluxQL against shared/Storage/SCHEMA.md through the provisioned datasource
(uid seccm-influx). Uids are fixed here so links and kiosk URLs stay valid across regenerations.
tests/Dashboards.Tests parses the output and runs every query against an influxd filled by `seccm demo`.
"""
import json
import os

DS = {"type": "influxdb", "uid": "seccm-influx"}
HERE = os.path.dirname(os.path.abspath(__file__))
INSTR = '"instrument" =~ /^$instrument$/'


class Layout:
    """Places panels left to right in a 24-column grid, wrapping to a new line."""

    def __init__(self):
        self.x, self.y, self.row_h, self.next_id = 0, 0, 0, 1

    def place(self, panel, w, h):
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        panel["id"] = self.next_id
        self.next_id += 1
        self.x += w
        self.row_h = max(self.row_h, h)
        return panel

    def newline(self):
        if self.x > 0:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0


def target(query, fmt="time_series", ref="A", alias=None):
    t = {"refId": ref, "datasource": DS, "rawQuery": True, "resultFormat": fmt, "query": query}
    if alias:
        t["alias"] = alias
    return t


def thresholds(*steps):
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


def panel(kind, title, targets, unit=None, th=None, mappings=None, options=None, custom=None, description=None, decimals=None):
    defaults = {}
    if unit:
        defaults["unit"] = unit
    if th:
        defaults["thresholds"] = th
        defaults["color"] = {"mode": "thresholds"}
    if mappings:
        defaults["mappings"] = mappings
    if custom:
        defaults["custom"] = custom
    if decimals is not None:
        defaults["decimals"] = decimals
    p = {"type": kind, "title": title, "datasource": DS, "targets": targets,
         "fieldConfig": {"defaults": defaults, "overrides": []}, "options": options or {}}
    if description:
        p["description"] = description
    return p


def stat(title, query, unit=None, th=None, mappings=None, text_size=None, fields="", description=None, decimals=None):
    opts = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": fields, "values": False},
            "colorMode": "background", "graphMode": "none", "justifyMode": "center", "textMode": "value_and_name",
            "orientation": "auto"}
    if text_size:
        opts["text"] = {"valueSize": text_size, "titleSize": max(14, text_size // 3)}
    return panel("stat", title, [target(query)], unit, th, mappings, opts, description=description, decimals=decimals)


def bool_map(true_text, true_color, false_text, false_color):
    return [{"type": "value", "options": {
        "true": {"text": true_text, "color": true_color, "index": 0},
        "false": {"text": false_text, "color": false_color, "index": 1},
        "1": {"text": true_text, "color": true_color, "index": 2},
        "0": {"text": false_text, "color": false_color, "index": 3}}}]


def timeseries(title, targets, unit=None, th=None, description=None, draw="line", threshold_style=None):
    custom = {"drawStyle": draw, "lineWidth": 2, "fillOpacity": 10, "showPoints": "never", "spanNulls": True}
    if threshold_style:
        custom["thresholdsStyle"] = {"mode": threshold_style}
    return panel("timeseries", title, targets, unit, th, options={"legend": {"displayMode": "list", "placement": "bottom"},
                 "tooltip": {"mode": "multi"}}, custom=custom, description=description)


def xy(title, query, x, y, color=None, unit_x=None, unit_y=None, description=None, size=8):
    series = {"x": x, "y": y, "pointSize": {"fixed": size}, "show": "points"}
    if color:
        series["pointColor"] = {"field": color}
    p = panel("xychart", title, [target(query, "table")], options={
        "seriesMapping": "manual", "series": [series], "dims": {"x": x},
        "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "single"}},
        custom={"show": "points", "pointSize": {"fixed": size}}, description=description)
    p["fieldConfig"]["defaults"]["color"] = {"mode": "continuous-BlYlRd" if color else "palette-classic"}
    overrides = []
    if unit_x:
        overrides.append({"matcher": {"id": "byName", "options": x}, "properties": [{"id": "unit", "value": unit_x}]})
    if unit_y:
        overrides.append({"matcher": {"id": "byName", "options": y}, "properties": [{"id": "unit", "value": unit_y}]})
    p["fieldConfig"]["overrides"] = overrides
    return p


def query_var(name, label, query, multi=False, include_all=False, default_all=False, regex=""):
    v = {"type": "query", "name": name, "label": label, "datasource": DS, "query": query, "definition": query,
         "refresh": 2, "sort": 1, "multi": multi, "includeAll": include_all, "regex": regex, "hide": 0,
         "options": []}
    v["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]} if default_all else {}
    return v


def instrument_var(multi):
    return query_var("instrument", "Instrument", 'SHOW TAG VALUES FROM "glovebox" WITH KEY = "instrument"',
                     multi=multi, include_all=multi, default_all=multi)


def dashboard(uid, title, panels, variables, tags, time_from="now-6h", refresh="10s", annotations=None, description=""):
    return {
        "uid": uid, "title": title, "description": description, "tags": ["seccm"] + tags, "schemaVersion": 39,
        "version": 1, "editable": True, "graphTooltip": 1, "style": "dark", "timezone": "browser",
        "refresh": refresh, "time": {"from": time_from, "to": "now"}, "liveNow": False,
        "timepicker": {"refresh_intervals": ["5s", "10s", "30s", "1m", "5m"]},
        "templating": {"list": variables},
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
                                  "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
                                  "type": "dashboard"}] + (annotations or [])},
        "links": [{"type": "dashboards", "tags": ["seccm"], "asDropdown": True, "title": "SECCM", "includeVars": True,
                   "keepTime": True}],
        "panels": panels,
    }


O2_TH = thresholds((None, "green"), (5, "orange"), (10, "red"))
DEW_TH = thresholds((None, "green"), (-70, "orange"), (-60, "red"))
H2O_TH = thresholds((None, "green"), (2.6, "orange"), (10.7, "red"))  # ppm at -70 / -60 C dew point (1013 mbar)


def facility():
    L = Layout()
    panels = []
    row = {"type": "row", "title": "Instrument $instrument", "collapsed": False, "repeat": "instrument", "panels": []}
    panels.append(L.place(row, 24, 1))
    L.newline()
    big = 48
    panels.append(L.place(stat("Services", f'SELECT last("online") FROM "service_status" WHERE {INSTR} AND $timeFilter GROUP BY "service"',
                               mappings=bool_map("online", "green", "OFFLINE", "red"), text_size=24,
                               description="Last status each service wrote (offline comes from its MQTT last will)."), 6, 7))
    panels[-1]["targets"][0]["alias"] = "$tag_service"
    scan_state = stat("Scan", f'SELECT last("state") AS "state" FROM "scan_progress" WHERE {INSTR} AND $timeFilter',
                      mappings=[{"type": "value", "options": {
                          "running": {"text": "RUNNING", "color": "green", "index": 0},
                          "paused": {"text": "PAUSED", "color": "orange", "index": 1},
                          "aborted": {"text": "ABORTED", "color": "red", "index": 2},
                          "completed": {"text": "DONE", "color": "blue", "index": 3},
                          "failed": {"text": "FAILED", "color": "red", "index": 4},
                          "idle": {"text": "idle", "color": "text", "index": 5},
                          "starting": {"text": "STARTING", "color": "green", "index": 6},
                          "pausing": {"text": "PAUSING", "color": "orange", "index": 7}}}],
                      text_size=big, fields="/^state$/")
    scan_state["options"]["textMode"] = "value"
    panels.append(L.place(scan_state, 4, 7))
    progress = panel("gauge", "Scan progress", [target(
        f'SELECT last("progress_fraction") * 100 AS "progress" FROM "scan_progress" WHERE {INSTR} AND $timeFilter')],
        unit="percent", th=thresholds((None, "blue")), options={
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showThresholdLabels": False, "showThresholdMarkers": False, "text": {"valueSize": big}})
    progress["fieldConfig"]["defaults"].update({"min": 0, "max": 100})
    panels.append(L.place(progress, 4, 7))
    panels.append(L.place(stat("O2", f'SELECT last("o2_ppm") FROM "glovebox" WHERE {INSTR} AND $timeFilter', unit="ppm", th=O2_TH,
                               text_size=big, decimals=1, description="Warning 5 ppm, alarm 10 ppm."), 3, 7))
    panels.append(L.place(stat("Dew point", f'SELECT last("dew_point_c") FROM "glovebox" WHERE {INSTR} AND $timeFilter', unit="celsius",
                               th=DEW_TH, text_size=big, decimals=0, description="Warning -70 C, alarm -60 C."), 3, 7))
    panels.append(L.place(stat("Pump", f'SELECT last("pump_on") FROM "glovebox" WHERE {INSTR} AND $timeFilter',
                               mappings=bool_map("ON", "green", "OFF", "orange"), text_size=big), 2, 7))
    panels[-1]["options"]["textMode"] = "value"
    alarms = stat("Alarms", f'SELECT last("active") FROM "alarm" WHERE {INSTR} AND $timeFilter GROUP BY "alarm"',
                  mappings=bool_map("ALARM", "red", "ok", "green"), text_size=24,
                  description="Latest state of each glovebox alarm in the time range.")
    alarms["targets"][0]["alias"] = "$tag_alarm"
    panels.append(L.place(alarms, 2, 7))
    d = dashboard("seccm-facility", "SECCM facility overview", panels, [instrument_var(True)], ["facility", "wall"],
                  time_from="now-1h", refresh="10s",
                  description="Wall display: one row per instrument. Open with ?kiosk&theme=dark.")
    return d


def live():
    L = Layout()
    p = []
    p.append(L.place(stat("Scan state", f'SELECT last("state") AS "state" FROM "scan_progress" WHERE {INSTR} AND $timeFilter', fields="/^state$/", text_size=32), 4, 5))
    p.append(L.place(stat("Pixels done", f'SELECT last("pixels_done") AS "done", last("pixels_total") AS "total" FROM "scan_progress" WHERE {INSTR} AND $timeFilter', text_size=32), 4, 5))
    prog = panel("bargauge", "Progress", [target(f'SELECT last("progress_fraction") * 100 AS "progress" FROM "scan_progress" WHERE {INSTR} AND $timeFilter')],
                 unit="percent", th=thresholds((None, "blue")), options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                                                                        "displayMode": "lcd", "orientation": "horizontal"})
    prog["fieldConfig"]["defaults"].update({"min": 0, "max": 100})
    p.append(L.place(prog, 6, 5))
    p.append(L.place(stat("ETA", f'SELECT last("eta_s") AS "eta" FROM "scan_progress" WHERE {INSTR} AND $timeFilter', unit="s", text_size=32), 3, 5))
    p.append(L.place(stat("Current", f'SELECT last("current_a") FROM "potentiostat_sample" WHERE {INSTR} AND $timeFilter', unit="amp", text_size=32, decimals=3), 3, 5))
    p.append(L.place(stat("O2", f'SELECT last("o2_ppm") FROM "glovebox" WHERE {INSTR} AND $timeFilter', unit="ppm", th=O2_TH, text_size=32, decimals=1), 2, 5))
    p.append(L.place(stat("Dew point", f'SELECT last("dew_point_c") FROM "glovebox" WHERE {INSTR} AND $timeFilter', unit="celsius", th=DEW_TH, text_size=32, decimals=0), 2, 5))
    L.newline()
    p.append(L.place(timeseries("Stage position x, y", [target(
        f'SELECT mean("x_um") AS "x", mean("y_um") AS "y" FROM "stage" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval) fill(none)')],
        unit="µm"), 12, 8))
    p.append(L.place(timeseries("Stage z (approach)", [target(
        f'SELECT mean("z_um") AS "z" FROM "stage" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval) fill(none)')],
        unit="µm"), 12, 8))
    p.append(L.place(timeseries("Live current", [target(
        f'SELECT mean("current_a") AS "current" FROM "potentiostat_sample" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval), "technique" fill(none)',
        alias="$tag_technique")], unit="amp"), 12, 8))
    p.append(L.place(xy("Latest CVs (last 4000 samples)",
                        f'SELECT "potential_v", "current_a" FROM "potentiostat_sample" WHERE {INSTR} AND "technique" = \'cv\' AND $timeFilter ORDER BY time DESC LIMIT 4000',
                        "potential_v", "current_a", unit_x="volt", unit_y="amp", size=3,
                        description="The potentiostat's telemetry samples (a few per second) of the latest CVs, all scan rates."), 12, 8))
    p.append(L.place(timeseries("O2 and H2O", [target(
        f'SELECT mean("o2_ppm") AS "O2", mean("h2o_ppm") AS "H2O" FROM "glovebox" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval) fill(none)')],
        unit="ppm", th=O2_TH, threshold_style="dashed"), 12, 8))
    p.append(L.place(timeseries("Dew point", [target(
        f'SELECT mean("dew_point_c") AS "dew point" FROM "glovebox" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval) fill(none)')],
        unit="celsius", th=DEW_TH, threshold_style="dashed"), 12, 8))
    return dashboard("seccm-live", "SECCM instrument live view", p, [instrument_var(False)], ["instrument", "live"],
                     time_from="now-30m", refresh="5s")


def results():
    L = Layout()
    scan = f'{INSTR} AND "scan_id" = \'$scan\''
    p = []
    p.append(L.place(xy("Diffusion coefficient map D (cm²/s)", f'SELECT "x_um", "y_um", "d_cm2_s" FROM "pixel_result" WHERE {scan}',
                        "x_um", "y_um", color="d_cm2_s", unit_x="µm", unit_y="µm", size=14,
                        description="One point per pixel at its stage position, coloured by D from the Randles-Sevcik fit."), 12, 12))
    p.append(L.place(xy("Current map (mean current per pixel)", f'SELECT "x_um", "y_um", "current_a" FROM "pixel_result" WHERE {scan}',
                        "x_um", "y_um", color="current_a", unit_x="µm", unit_y="µm", size=14,
                        description="Mean current of each pixel's measurement, at its stage position."), 12, 12))
    hist = panel("histogram", "D histogram", [target(f'SELECT "d_cm2_s" FROM "pixel_result" WHERE {scan}', "table")],
                 unit="none", options={"bucketCount": 30, "combine": False, "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom"}})
    p.append(L.place(hist, 8, 9))
    p.append(L.place(xy("ip vs √v at pixel $pixel",
                        f'SELECT "sqrt_scan_rate", "ip_a" FROM "cv_peak" WHERE {scan} AND "pixel" = $pixel',
                        "sqrt_scan_rate", "ip_a", unit_y="amp", size=10,
                        description="Randles-Sevcik: ip is proportional to sqrt(v); the slope gives D."), 8, 9))
    p.append(L.place(xy("Topography (contact z)",
                        f'SELECT "x_um", "y_um", "contact_z_um" FROM "pixel_result" WHERE {scan} AND "contact" = true',
                        "x_um", "y_um", color="contact_z_um", unit_x="µm", unit_y="µm", size=14,
                        description="Stage z at which the meniscus touched the surface, per pixel."), 8, 9))
    table = panel("table", "Pixel results", [target(
        f'SELECT "pixel", "x_um", "y_um", "d_cm2_s", "r2", "slope_a_per_sqrt_v_s", "delta_ep_v", "flag", "ok" FROM "pixel_result" WHERE {scan}',
        "table")], options={"showHeader": True, "cellHeight": "sm"})
    p.append(L.place(table, 24, 10))
    variables = [instrument_var(False),
                 query_var("scan", "Scan", 'SHOW TAG VALUES FROM "pixel_result" WITH KEY = "scan_id" WHERE "instrument" =~ /^$instrument$/'),
                 query_var("pixel", "Pixel", 'SELECT DISTINCT("pixel") FROM "cv_peak" WHERE "instrument" =~ /^$instrument$/ AND "scan_id" = \'$scan\'')]
    return dashboard("seccm-scan-results", "SECCM scan results", p, variables, ["instrument", "results"], time_from="now-30d", refresh="")


def glovebox():
    L = Layout()
    p = []
    p.append(L.place(timeseries("O2", [target(f'SELECT mean("o2_ppm") AS "O2" FROM "glovebox" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval), "instrument" fill(none)',
                                              alias="$tag_instrument O2")], unit="ppm", th=O2_TH, threshold_style="line+area"), 24, 8))
    p.append(L.place(timeseries("H2O", [target(f'SELECT mean("h2o_ppm") AS "H2O" FROM "glovebox" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval), "instrument" fill(none)',
                                               alias="$tag_instrument H2O")], unit="ppm", th=H2O_TH, threshold_style="line+area"), 12, 8))
    p.append(L.place(timeseries("Dew point", [target(f'SELECT mean("dew_point_c") AS "dew point" FROM "glovebox" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval), "instrument" fill(none)',
                                                     alias="$tag_instrument dew point")], unit="celsius", th=DEW_TH, threshold_style="line+area"), 12, 8))
    pump = panel("state-timeline", "Circulation pump", [target(
        f'SELECT last("pump_on") AS "pump" FROM "glovebox" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval), "instrument" fill(none)',
        alias="$tag_instrument pump")], mappings=bool_map("on", "green", "off", "orange"),
        options={"mergeValues": True, "showValue": "never", "rowHeight": 0.8})
    p.append(L.place(pump, 12, 6))
    p.append(L.place(timeseries("Pressure", [target(f'SELECT mean("pressure_mbar") AS "pressure" FROM "glovebox" WHERE {INSTR} AND $timeFilter GROUP BY time($__interval), "instrument" fill(none)',
                                                    alias="$tag_instrument pressure")], unit="pressurembar"), 12, 6))
    alarm_table = panel("table", "Alarm changes", [target(
        f'SELECT "active", "value", "limit", "message" FROM "alarm" WHERE {INSTR} AND $timeFilter GROUP BY "alarm", "instrument" ORDER BY time DESC LIMIT 200',
        "table")], options={"showHeader": True})
    p.append(L.place(alarm_table, 24, 8))
    ann = [{"name": "Glovebox alarms", "datasource": DS, "enable": True, "iconColor": "red", "hide": False,
            "query": f'SELECT "message", "value" FROM "alarm" WHERE {INSTR} AND $timeFilter',
            "textColumn": "message", "tagsColumn": "", "titleColumn": ""}]
    return dashboard("seccm-glovebox-history", "SECCM glovebox history", p, [instrument_var(True)], ["glovebox", "history"],
                     time_from="now-7d", refresh="1m", annotations=ann)


def write(folder, name, d):
    path = os.path.join(HERE, "json", folder, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(d, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    write("facility", "facility-overview.json", facility())
    write("instruments", "instrument-live.json", live())
    write("instruments", "scan-results.json", results())
    write("instruments", "glovebox-history.json", glovebox())
