// The HTML report (see html_report.hpp).
#include "stress/html_report.hpp"

#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace livehouse::stress {

namespace {

core::result<std::string> read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return core::make_error(fmt::format("cannot read {}", path));
    }
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string html_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '<':
            out.append("&lt;");
            break;
        case '>':
            out.append("&gt;");
            break;
        case '&':
            out.append("&amp;");
            break;
        case '"':
            out.append("&quot;");
            break;
        default:
            out.push_back(c);
        }
    }
    return out;
}

/// Text placed inside <script> or <style>: "</" could close the element early.
std::string inline_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') {
            out.append("<\\/");
            ++i;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

// The page renders itself from DATA (the JSON report): tables and uPlot charts.
constexpr const char* page_script = R"js(
const $ = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
const ms = (us) => (us / 1000).toFixed(2) + ' ms';
const root = document.getElementById('report');
root.append($('h1', {}, 'livehouse stress: ' + DATA.scenario));
root.append($('p', {id: 'verdict', class: DATA.passed ? 'passed' : 'failed'},
              DATA.passed ? 'PASSED' : 'FAILED'));
root.append($('p', {}, `${DATA.elapsed_s.toFixed(1)} s, ${DATA.iterations} iterations, ` +
                       `${DATA.dropped_iterations} dropped`));

const steps = $('table', {id: 'steps'});
steps.append($('tr', {}, ...['step', 'requests', 'failed', 'req/s', 'p50', 'p90', 'p99', 'p99.9',
                             'max', 'statuses'].map((h) => $('th', {}, h))));
for (const [name, s] of Object.entries(DATA.steps)) {
  const l = s.latency;
  steps.append($('tr', {}, ...[name, s.requests, s.failed, s.rps.toFixed(1), ms(l.p50_us),
                               ms(l.p90_us), ms(l.p99_us), ms(l.p999_us), ms(l.max_us),
                               Object.entries(s.statuses).map(([c, n]) => `${c}: ${n}`).join(', ')]
                               .map((v) => $('td', {}, String(v)))));
}
root.append($('h2', {}, 'Requests'), steps);

if (DATA.viewers.joined > 0) {
  const v = DATA.viewers;
  root.append($('h2', {}, 'HLS viewers'),
              $('p', {id: 'viewers'}, `${v.joined} joined, ${v.started} started (start-up p50 ` +
                `${ms(v.startup.p50_us)}, p99 ${ms(v.startup.p99_us)}), ${v.stalls} stalls, ` +
                `${v.segments} segments, ${(v.bytes / 1e6).toFixed(1)} MB`));
}

if (DATA.love.tappers > 0) {
  const l = DATA.love;
  root.append($('h2', {}, 'Love'),
              $('p', {id: 'love'}, `${l.tappers} tappers, ${l.batches} batches, ${l.sent} taps ` +
                `sent, ${l.accepted} accepted`));
}

if (DATA.chat.clients > 0) {
  const c = DATA.chat;
  const errors = Object.entries(c.errors).map(([k, n]) => `${k}: ${n}`).join(', ');
  root.append($('h2', {}, 'Chat'),
              $('p', {id: 'chat'}, `${c.clients} clients, ${c.joined} joined; ${c.sent} sent, ` +
                `${c.acked} acked; ${c.received} received, ${c.delivered} stamped (delivery p50 ` +
                `${ms(c.delivery.p50_us)}, p99 ${ms(c.delivery.p99_us)}, max ` +
                `${ms(c.delivery.max_us)}); ${c.skipped} skipped, ${c.disconnects} disconnects` +
                (errors ? ` (${errors})` : '')));
}

if (DATA.events.length > 0) {
  const ev = $('table', {id: 'events'});
  ev.append($('tr', {}, ...['event', 'ran at', 'exit', 'took', 'command'].map((h) => $('th', {}, h))));
  for (const e of DATA.events) {
    ev.append($('tr', {}, ...[e.name, e.ran_at_s.toFixed(1) + ' s', e.exit_code,
                              e.took_s.toFixed(2) + ' s', e.command].map((v) => $('td', {}, String(v)))));
  }
  root.append($('h2', {}, 'Events (on the charts: dashed lines)'), ev);
}

const th = $('table', {id: 'thresholds'});
th.append($('tr', {}, $('th', {}, 'threshold'), $('th', {}, 'observed'), $('th', {}, 'result')));
for (const t of DATA.thresholds) {
  th.append($('tr', {class: t.passed ? 'passed' : 'failed'}, $('td', {}, t.threshold),
              $('td', {}, t.observed_text), $('td', {}, t.passed ? 'ok' : 'FAIL')));
}
root.append($('h2', {}, 'Thresholds'), th);

function chart(title, series, data) {
  const box = $('div', {class: 'chart'});
  root.append($('h2', {}, title), box);
  // The events as dashed vertical lines: the effect of a fault shows beside its cause.
  const marks = (u) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = '#b00';
    for (const e of DATA.events) {
      const x = u.valToPos(e.ran_at_s, 'x', true);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  };
  new uPlot({width: 900, height: 260, scales: {x: {time: false}}, hooks: {draw: [marks]},
             series: [{label: 's'}, ...series], axes: [{label: 'seconds'}, {}]}, data, box);
}
const t = DATA.timeline.map((s) => s.second);
chart('Requests and failures per second',
      [{label: 'requests', stroke: '#2a7'}, {label: 'failed', stroke: '#d33'},
       {label: 'dropped', stroke: '#e90'}],
      [t, DATA.timeline.map((s) => s.requests), DATA.timeline.map((s) => s.failed),
       DATA.timeline.map((s) => s.dropped)]);
chart('Latency per second (ms)',
      [{label: 'p50', stroke: '#37c'}, {label: 'p99', stroke: '#c3a'}, {label: 'max', stroke: '#999'}],
      [t, DATA.timeline.map((s) => s.p50_us / 1000), DATA.timeline.map((s) => s.p99_us / 1000),
       DATA.timeline.map((s) => s.max_us / 1000)]);
if (DATA.server && DATA.server.samples.length > 1) {
  const ss = DATA.server.samples.filter((x) => x.cpu_percent >= 0);
  chart('Server (its /metrics)',
        [{label: 'cpu %', stroke: '#a52'}, {label: 'load1 x100', stroke: '#56a'},
         {label: 'connections', stroke: '#5a5'}, {label: 'db connections', stroke: '#333'}],
        [ss.map((x) => x.t_s), ss.map((x) => x.cpu_percent), ss.map((x) => x.load1 * 100),
         ss.map((x) => x.connections), ss.map((x) => x.db_connections)]);
  const sl = ss.filter((x) => x.latency_p99_ms >= 0);
  if (sl.length > 1) {
    chart('Server latency per second (its own histogram, ms)',
          [{label: 'p50', stroke: '#37c'}, {label: 'p99', stroke: '#c3a'}],
          [sl.map((x) => x.t_s), sl.map((x) => x.latency_p50_ms), sl.map((x) => x.latency_p99_ms)]);
  }
}
document.body.dataset.rendered = 'yes';
)js";

constexpr const char* page_style = R"css(
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
#verdict { font-size: 2em; font-weight: bold; }
.passed { color: #170; } .failed { color: #b00; }
.chart { margin-bottom: 1.5em; }
)css";

} // namespace

core::result<chart_library> load_chart_library(const std::string& root) {
    const auto dir = root + "/node_modules/uplot/dist/";
    auto js = read_all(dir + "uPlot.iife.min.js");
    if (!js) {
        return js.err().wrap("uPlot (npm ci in the repository root)");
    }
    auto css = read_all(dir + "uPlot.min.css");
    if (!css) {
        return css.err().wrap("uPlot (npm ci in the repository root)");
    }
    return chart_library{std::move(*js), std::move(*css)};
}

std::string html_report(const scenario& sc, const run_stats& stats, const verdict& v,
                        const server_scraper* server, const chart_library& charts) {
    std::string out;
    out.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    out.append(html_escape(fmt::format("livehouse stress: {}", sc.name)));
    out.append("</title>\n<style>");
    out.append(inline_safe(charts.stylesheet));
    out.append("</style>\n<style>");
    out.append(page_style);
    out.append("</style>\n<script>");
    out.append(inline_safe(charts.script));
    out.append("</script>\n</head><body><div id=\"report\"></div>\n<script>\nconst DATA = ");
    out.append(inline_safe(report_json(sc, stats, v, server)));
    out.append(";\n");
    out.append(page_script);
    out.append("</script>\n</body></html>\n");
    return out;
}

} // namespace livehouse::stress
