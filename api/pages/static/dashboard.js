// Draws each dashboard chart from the table rendered next to it (<script type=application/json>),
// so the chart, the table and the Excel export show the same numbers. Clicking a bar opens the
// sub-region's dashboard (drill-down) unless the rows are villages.
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var name = el.getAttribute("data-chart");
    var table = JSON.parse(document.getElementById("data-" + name).textContent);
    var regions = table.rows.map(function (row) { return row[1]; });
    var series = [];
    // Columns 0 and 1 are the code and the name; households: skip the totals (households,
    // people) and stack the statuses; needs: all columns side by side.
    var first = table.stacked ? 4 : 2;
    for (var c = first; c < table.headings.length; c++) {
      series.push({
        name: table.headings[c],
        type: "bar",
        stack: table.stacked ? "status" : undefined,
        data: table.rows.map(function (row) { return row[c]; }),
      });
    }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: "category", data: regions, axisLabel: { interval: 0, rotate: regions.length > 6 ? 40 : 0 } },
      yAxis: { type: "value" },
      series: series,
    });
    if (el.getAttribute("data-drill") === "yes") {
      chart.on("click", function (params) {
        var code = table.codes[params.dataIndex];
        window.location.href = "/dashboard?region=" + encodeURIComponent(code) + "&lang=" + lang;
      });
    }
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
