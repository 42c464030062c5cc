-- Counters by month and all time beside the daily ones, maintained with them, so the
-- all-time summary and month slices read a few rows instead of summing days.
CREATE TABLE stat_month (
    scope  text   NOT NULL,
    metric text   NOT NULL,
    month  date   NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (scope, month, metric)
);
CREATE TABLE stat_total (
    scope  text   NOT NULL,
    metric text   NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (scope, metric)
);
INSERT INTO stat_month (scope, metric, month, n)
    SELECT scope, metric, date_trunc('month', day)::date, sum(n) FROM stat_day
    GROUP BY 1, 2, 3;
INSERT INTO stat_total (scope, metric, n)
    SELECT scope, metric, sum(n) FROM stat_day GROUP BY 1, 2;
