-- The full case workflow: deadlines in working days, clock stops, agreed due dates,
-- transfers, reminders and escalation, ratings, handling restrictions, broadcast groups.

-- Requests from before deadlines existed get one week (calendar days, as SQL cannot
-- know the official working days; the desks compute every new due date).
UPDATE request SET due_date = (created_at AT TIME ZONE 'Asia/Shanghai')::date + 7
    WHERE due_date IS NULL;

ALTER TABLE request
    ALTER COLUMN due_date SET NOT NULL,
    ADD COLUMN due_provisional   boolean  NOT NULL DEFAULT false,
    ADD COLUMN pending_due_date  date,
    ADD COLUMN clock_stopped_on  date,
    ADD COLUMN transferred_from  char(6)[] NOT NULL DEFAULT '{}',
    ADD COLUMN rating            smallint,
    ADD COLUMN reminders         integer  NOT NULL DEFAULT 0,
    ADD COLUMN last_reminded_at  timestamptz,
    ADD COLUMN escalated_at      timestamptz,
    ADD COLUMN group_id          uuid;

CREATE INDEX request_former_idx ON request USING gin (transferred_from);
CREATE INDEX request_open_due_idx ON request (due_date)
    WHERE state IN ('delivered', 'accepted', 'partially_replied');

-- A deadline rule (before_due, overdue, escalate) fires once per request, however
-- many desk processes watch and however often they restart.
CREATE TABLE deadline_rule_fired (
    request_id uuid        NOT NULL,
    rule       text        NOT NULL,
    fired_at   timestamptz NOT NULL,
    PRIMARY KEY (request_id, rule)
);

-- The coordinators' queue: escalated requests of the recipient's province.
CREATE TABLE escalation (
    request_id   uuid PRIMARY KEY REFERENCES request (id),
    province     char(2)     NOT NULL,
    escalated_at timestamptz NOT NULL,
    resolved_at  timestamptz
);
CREATE INDEX escalation_open_idx ON escalation (province, escalated_at) WHERE resolved_at IS NULL;
