// Draws each dashboard chart from the data rendered next to it (<script type=application/json>,
// built from the same analytics table as the table under the chart and the export). Clicking a
// bar opens that sub-region's dashboard (drill-down) unless the bars are villages.
(function () {
  "use strict";
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var data = JSON.parse(document.getElementById("data-" + el.getAttribute("data-chart")).textContent);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 40, containLabel: true },
      xAxis: {
        type: "category",
        data: data.categories,
        axisLabel: { interval: 0, rotate: data.categories.length > 6 ? 40 : 0 },
      },
      yAxis: { type: "value" },
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: data.stacked ? "all" : undefined, data: s.data, barMaxWidth: 48 };
      }),
    });
    if (data.drill) {
      chart.on("click", function (params) {
        window.location.href = "/dashboard?region=" + encodeURIComponent(data.codes[params.dataIndex]);
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
