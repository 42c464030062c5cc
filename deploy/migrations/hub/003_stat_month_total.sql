-- Counters by month and all time beside the daily ones, maintained with them, so the
-- all-time summary and month slices read a few rows instead of summing days. Scopes
-- compare bytewise (C collation): prefix ranges like 'rcpp:' .. 'rcpp:~' are exact and
-- keys sort fast.
ALTER TABLE stat_day ALTER COLUMN scope TYPE text COLLATE "C",
                     ALTER COLUMN metric TYPE text COLLATE "C";
CREATE TABLE stat_month (
    scope  text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    month  date   NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (scope, metric, month)
);
CREATE TABLE stat_total (
    scope  text COLLATE "C" NOT NULL,
    metric text COLLATE "C" NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (scope, metric)
);
INSERT INTO stat_month (scope, metric, month, n)
    SELECT scope, metric, date_trunc('month', day)::date, sum(n) FROM stat_day
    GROUP BY 1, 2, 3;
INSERT INTO stat_total (scope, metric, n)
    SELECT scope, metric, sum(n) FROM stat_day GROUP BY 1, 2;
