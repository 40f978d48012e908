{#-
    drift_within_threshold: the latest run's drift figure (a column of segment_drift) is on
    the right side of a threshold read from a dbt var. Returns that run's row when it is not
    (nulls pass: the first run of a database has nothing to compare with), and prints one
    line naming the figure, its value, the var and the threshold.

    Arguments
      threshold_var: the var holding the threshold, e.g. drift_min_ari (a number, checked)
      bound: 'min' (the figure must be at least the threshold) or 'max' (at most)

    Example
      - drift_within_threshold:
          arguments: {threshold_var: drift_min_ari, bound: min}
          config: {severity: "{{ var('drift_severity') }}"}
-#}
{% test drift_within_threshold(model, column_name, threshold_var, bound) %}

{%- set threshold = var(threshold_var) %}
{%- if threshold is not number or threshold is sameas true or threshold is sameas false %}
    {{ exceptions.raise_compiler_error(
        "var '" ~ threshold_var ~ "': expected a number, got '" ~ threshold ~ "'") }}
{%- endif %}
{%- if bound not in ['min', 'max'] %}
    {{ exceptions.raise_compiler_error("drift_within_threshold: bound must be min or max") }}
{%- endif %}
{%- set beyond = '<' if bound == 'min' else '>' %}

{%- set failing %}
select
    run_id,
    {{ column_name }} as measured_value,
    {{ threshold }} as threshold
from {{ model }}
where
    run_started_at = (select max(run_started_at) from {{ model }})
    and {{ column_name }} is not null
    and {{ column_name }} {{ beyond }} {{ threshold }}
{%- endset %}

{%- if execute %}
    {%- set found = run_query(failing) %}
    {%- for row in found.rows %}
        {{ log(
            "drift: " ~ column_name ~ " = " ~ "%.4f" | format(row[1])
            ~ (" is below " if bound == 'min' else " is above ")
            ~ threshold_var ~ " = " ~ threshold ~ " (run " ~ row[0] ~ ")",
            info=True,
        ) }}
    {%- endfor %}
{%- endif %}

{{ failing }}

{% endtest %}
