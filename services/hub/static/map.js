// The coordinators' partner map: provinces (ECharts 4.9.0 china.json, registered as
// 'china' so ECharts adds the South China Sea inset), partners as points, flows as lines.
// Everything comes from this host: the model is inline, the geometry a vendored file.
(async function () {
  "use strict";
  const model = JSON.parse(document.getElementById("map-model").textContent);
  const labels = JSON.parse(document.getElementById("map-labels").textContent);
  const geo = await (await fetch("/static/vendor/china.json")).json();
  echarts.registerMap("china", geo);
  const names = {}, centres = {};
  for (const f of geo.features) {
    const code = String(f.properties.id).slice(0, 2);
    names[code] = f.properties.name;
    centres[code] = f.properties.cp;
  }
  const el = document.getElementById("map");
  const chart = echarts.init(el, null, { renderer: "canvas" });
  let shade = "partners";

  function regionData() {
    return model.regions.filter(r => names[r.code])
      .map(r => ({ name: names[r.code], value: r[shade], code: r.code }));
  }
  function flowData(show) {
    if (!show) return [];
    return model.flows.filter(f => centres[f.from] && centres[f.to])
      .map(f => ({ coords: [centres[f.from], centres[f.to]], value: f.n }));
  }
  function shading() {
    const data = regionData();
    const max = Math.max(1, ...data.map(d => d.value));
    return {
      visualMap: { min: 0, max: max, seriesIndex: 0, left: 10, bottom: 10, calculable: false,
                   text: [String(max), "0"], inRange: { color: ["#eef4fb", "#2a6fb5"] } },
      series: { id: "regions", name: labels[shade], type: "map", geoIndex: 0, data: data },
    };
  }
  function flowing() {
    const flows = flowData(document.getElementById("show-flows").checked);
    const fmax = Math.max(1, ...flows.map(f => f.value));
    // small flows faint and thin, big ones bold: 30 x 30 lines stay readable
    flows.forEach(f => {
      const share = f.value / fmax;
      f.lineStyle = { width: 0.3 + 4 * share, opacity: 0.04 + 0.8 * share * share };
    });
    return { id: "flows", name: labels.flows, type: "lines", coordinateSystem: "geo",
             data: flows, lineStyle: { color: "#e08a00", curveness: 0.25 } };
  }
  function option() {
    const shaded = shading();
    return {
      animation: false,
      tooltip: { trigger: "item" },
      visualMap: shaded.visualMap,
      geo: { map: "china", roam: true, zoom: 1.15, top: 40, silent: false,
             itemStyle: { borderColor: "#777" }, emphasis: { itemStyle: { areaColor: "#f3c36b" } } },
      series: [
        shaded.series,
        // one path for all points (large mode) from a few hundred on: redraws stay cheap
        { id: "points", name: labels.bureaus, type: "scatter", coordinateSystem: "geo",
          symbolSize: 4, itemStyle: { color: "#c0392b" }, large: true, largeThreshold: 300,
          data: model.points.map(p => ({ name: p[2], value: [p[0], p[1]], code: p[3] })) },
        flowing(),
      ],
    };
  }
  function drawn() {
    const regions = chart.getModel().getComponent("geo").coordinateSystem.regions;
    el.dataset.regions = regions.map(r => r.name).join(",");
    el.dataset.points = String(chart.getModel().getSeriesByIndex(1).getData().count());
    el.dataset.flows = String(chart.getModel().getSeriesByIndex(2).getData().count());
    el.dataset.shadeMax = String(chart.getOption().visualMap[0].max);
    el.dataset.ready = "1";
  }
  // a change of shading or flows replaces only its own series: the points and the map's
  // geometry stay as they are
  function update(part) {
    chart.setOption(part);
    drawn();
  }
  chart.on("click", params => {
    const name = params.componentType === "geo" ? params.name : params.data && params.data.code
      ? null : params.name;
    const code = Object.keys(names).find(c => names[c] === name);
    if (code && model.regions.some(r => r.code === code && r.partners)) {
      htmx.ajax("GET", "/map/regions/" + code, "#panel");
    }
  });
  document.querySelectorAll("[data-shade]").forEach(b => b.addEventListener("click", () => {
    shade = b.dataset.shade;
    document.querySelectorAll("[data-shade]").forEach(o => o.setAttribute("aria-pressed", String(o === b)));
    update(shading());
  }));
  document.getElementById("show-flows").addEventListener("change",
    () => update({ series: [flowing()] }));
  window.addEventListener("resize", () => chart.resize());
  chart.setOption(option());
  drawn();
})();
