-- The hub's database: the partner registry (the hub is its authority) and the
-- statistics counters, kept exact by counting each event id once.

CREATE TABLE bureau (
    code          char(6) PRIMARY KEY,
    name          text             NOT NULL,
    province      char(2)          NOT NULL,
    province_name text             NOT NULL,
    level         smallint         NOT NULL,
    longitude     double precision NOT NULL,
    latitude      double precision NOT NULL,
    status        text             NOT NULL,
    signed_on     date
);
CREATE INDEX bureau_status_idx ON bureau (status, province);

CREATE TABLE registry_state (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version    integer     NOT NULL,
    digest     bytea       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One row per counted event: the idempotency key of the counters.
CREATE TABLE counted_event (
    event_id    uuid PRIMARY KEY,
    request_id  uuid        NOT NULL,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL
);

-- Daily counters per scope: 'all', 'req:<bureau>', 'rcp:<bureau>',
-- 'reqp:<province>', 'rcpp:<province>'. All-time totals are sums of days.
CREATE TABLE stat_day (
    scope  text   NOT NULL,
    metric text   NOT NULL,
    day    date   NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (scope, metric, day)
);
