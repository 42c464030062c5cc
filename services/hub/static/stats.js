// Charts of the statistics page, from the figures inlined in the page (no other request).
(function () {
  "use strict";
  const m = JSON.parse(document.getElementById("stats-model").textContent);
  function bar(id, names, values, horizontal) {
    const chart = echarts.init(document.getElementById(id), null, { renderer: "svg" });
    const cat = { type: "category", data: names }, val = { type: "value" };
    chart.setOption({
      animation: false, tooltip: {}, grid: { left: 60, right: 20, top: 20, bottom: 40 },
      xAxis: horizontal ? val : cat, yAxis: horizontal ? cat : val,
      series: [{ name: m.label, type: "bar", data: values, itemStyle: { color: "#2a6fb5" } }],
    });
    window.addEventListener("resize", () => chart.resize());
  }
  bar("chart-months", m.months.map(r => r.month), m.months.map(r => r.completed_checks), false);
  bar("chart-provinces", m.provinces.map(r => r.key), m.provinces.map(r => r.completed), false);
  document.body.dataset.chartsReady = "1";
})();
