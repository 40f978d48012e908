{#-
    check_rejected_share(input_rows, rejected_model)

    Runs while the model that feeds the fit is built (stg_customers), after the input rows are
    typed and checked, before anything is fitted. Stops the build with one line when no row is
    usable, or when the share of rejected rows is above var max_rejected_share (default 0.1):
      input_path 'x.csv': 177 of 200 rows (88.5 %) rejected, above max_rejected_share 0.1;
      most common reason: CLV: not a number ('149,99'): is it a decimal-comma file? set
      input_decimal_separator: ','
    Below it, rejected rows give a warning with the count and the top reasons. input_rows is the
    staging relation with input_source and rejection_reason; rejected_model names the mart.
-#}
{% macro check_rejected_share(input_rows, rejected_model) %}
    {#- Not while parsing, and not in dbt unit tests (their inputs are fixtures). -#}
    {%- if not execute or (input_rows | string).startswith('__dbt__cte__') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set limit = var('max_rejected_share', 0.1) -%}
    {%- if limit is none or (limit | string | lower) in ['', 'none', 'null'] -%}
        {%- set limit = 0.1 -%}
    {%- endif -%}
    {%- set limit = limit | float(-1) -%}
    {%- if limit < 0 or limit > 1 -%}
        {{ exceptions.raise_compiler_error("var 'max_rejected_share': expected a share between 0 and 1, got '" ~ var('max_rejected_share') ~ "'") }}
    {%- endif -%}
    {%- set counts = run_query(
        "select count(*), sum(case when rejection_reason is null then 0 else 1 end), min(input_source) from "
        ~ input_rows
    ).rows[0] -%}
    {%- set total, rejected, label = counts[0], (counts[1] or 0), counts[2] -%}
    {%- if rejected == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set reasons = run_query(
        "with first_reasons as (select regexp_replace(split_part(rejection_reason, '; ', 1), '^line [0-9]+: ', '') as reason from "
        ~ input_rows ~ " where rejection_reason is not null), "
        ~ "classes as (select split_part(reason, ' (', 1) as reason_class, min(reason) as example, count(*) as n from first_reasons group by 1) "
        ~ "select reason_class, example, n from classes order by n desc, reason_class limit 3"
    ).rows -%}
    {%- set share = rejected / total -%}
    {%- set head = label ~ ': ' ~ rejected ~ ' of ' ~ total ~ ' rows (' ~ ((share * 1000) | round | int / 10) ~ ' %) rejected' -%}
    {%- set top = reasons[0] -%}
    {%- if rejected == total -%}
        {{ exceptions.raise_compiler_error(head ~ ', no usable row; most common reason: ' ~ top[1] ~ reject_hint(top[0], top[1])) }}
    {%- elif share > limit -%}
        {{ exceptions.raise_compiler_error(head ~ ', above max_rejected_share ' ~ limit ~ '; most common reason: ' ~ top[1] ~ reject_hint(top[0], top[1])) }}
    {%- endif -%}
    {%- set listed = [] -%}
    {%- for row in reasons -%}
        {%- do listed.append(row[0] ~ ' (' ~ row[2] ~ ')') -%}
    {%- endfor -%}
    {%- do exceptions.warn('warning: ' ~ head ~ ' (see marts.' ~ rejected_model ~ '); top reasons: ' ~ (listed | join(', '))) -%}
    {{ return('') }}
{% endmacro %}
