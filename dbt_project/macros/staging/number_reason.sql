{#-
    number_reason(key, shown, min=none, blank_is_missing=true)

    The reject reason for one numeric input column, or null when the value is usable: missing
    (unless blank_is_missing is false: then a blank is allowed, e.g. zero-filled minutes), not a
    number, not finite, or below min ("negative" when min is 0). Expects the columns
    is_<key>_blank, <key>_value (double) and <key>_raw; shown is the column name users see.
    Customer measures and purchase amounts, unit costs and recency are all checked here.
-#}
{% macro number_reason(key, shown, min=none, blank_is_missing=true) -%}
    {%- set shown = shown | replace("'", "''") -%}
    case
        when is_{{ key }}_blank then {{ "'" ~ shown ~ ": missing'" if blank_is_missing else "null" }}
        when {{ key }}_value is null or isnan({{ key }}_value)
            then '{{ shown }}: not a number (''' || {{ key }}_raw || ''')'
        when not {{ is_finite(key ~ '_value') }}
            then '{{ shown }}: not finite (''' || {{ key }}_raw || ''')'
        when abs({{ key }}_value) > {{ value_bound() }}
            then '{{ shown }}: beyond the supported magnitude {{ value_bound() }} (''' || {{ key }}_raw || ''')'
        {%- if min is not none %}
        when {{ key }}_value < {{ min }}
            then '{{ shown }}: {{ "negative" if min == 0 else "below the minimum " ~ min }} (''' || {{ key }}_raw || ''')'
        {%- endif %}
    end
{%- endmacro %}
