{#-
    check_fit_rows(customers)

    Runs while int_customer_features is built: after staging, before any Python model fits.
    Stops the build with one line naming the input, the counts and k when the fit cannot give
    k segments: no usable customer, fewer usable customers than k, or fewer distinct feature
    rows than k (identical customers always share a segment). k is the fixed k, or the
    smallest k the diagnostics rule may choose (k_min, at least 2) for silhouette and elbow.
-#}
{% macro check_fit_rows(customers) %}
    {%- if not execute or (customers | string).startswith('__dbt__cte__') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set settings = segmentation_settings() -%}
    {%- set needed = settings.k if settings.k_rule == 'fixed' else ([settings.k_min, 2] | max) -%}
    {%- set spec = feature_spec() -%}
    {%- set columns = (spec.measures | map(attribute='name') | list) + (spec.categorical | map(attribute='code_column') | list) -%}
    {%- set counts = run_query(
        'select (select count(*) from ' ~ customers ~ '), (select count(*) from (select distinct '
        ~ (columns | join(', ')) ~ ' from ' ~ customers ~ ') as feature_rows)'
    ).rows[0] -%}
    {%- set usable, distinct = counts[0], counts[1] -%}
    {%- set label = input_label() -%}
    {%- set rejected = 'rejected_transaction_rows' if spec.input_kind == 'transactions' else 'rejected_customer_rows' -%}
    {%- if usable < needed -%}
        {{ exceptions.raise_compiler_error(label ~ ': ' ~ usable ~ (' usable customer row' if usable == 1 else ' usable customer rows') ~ ', fewer than k = ' ~ needed ~ ' segments (rejected rows are listed in marts.' ~ rejected ~ ')') }}
    {%- elif distinct < needed -%}
        {{ exceptions.raise_compiler_error(label ~ ': ' ~ usable ~ ' usable customer rows but only ' ~ distinct ~ ' distinct feature rows, fewer than k = ' ~ needed ~ ' segments (identical customers always share a segment); lower k') }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
