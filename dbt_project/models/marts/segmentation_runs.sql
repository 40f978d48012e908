{#- Spark tables are parquet here (no merge): runs are appended, each build adds a new run_id. -#}
{{ config(
    materialized='incremental',
    unique_key=none if target.type == 'spark' else 'run_id',
    on_schema_change='append_new_columns',
) }}

{#- One row per dbt build: what went in, the settings, the fit's quality and the versions.
    Incremental, so the table is the audit log of every run in this database. Input rows are
    customer rows, or purchase rows for transaction input. -#}
{%- set spec = feature_spec() %}

with

input_rows as (

    {%- set input_model = 'stg_transaction_input' if spec.input_kind == 'transactions'
        else 'stg_customer_input' %}
    select * from {{ ref(input_model) }}

),

customers as (

    select * from {{ ref('stg_customers') }}

),

scaler as (

    select * from {{ ref('ml_feature_scaler') }}

),

kmeans_fit as (

    select * from {{ ref('ml_kmeans_fit') }}

),

k_diagnostics as (

    select * from {{ ref('ml_k_diagnostics') }}

),

ward_linkage as (

    select * from {{ ref('ml_ward_linkage') }}

),

environment as (

    select * from {{ ref('ml_environment') }}

),

segment_stability as (

    select * from {{ ref('ml_segment_stability') }}

),

input_counts as (

    select
        any_value(input_source) as input_source,
        count(*) as count_input_rows,
        count(*) filter (where rejection_reason is null) as count_segmented_rows,
        count(*) filter (where rejection_reason is not null) as count_rejected_rows
    from input_rows

),

customer_counts as (

    select count(*) as count_segmented_customers
    from customers

),

features as (

    select
        {{ ordered_string_agg('feature_name', ', ', 'feature_position') }} as feature_names,
        count(*) as count_features,
        count(*) filter (where is_constant) as count_constant_features
    from scaler

),

fit as (

    select
        any_value(preset) as preset,
        any_value(k) as k,
        any_value(wcss) as wcss,
        any_value(silhouette) as silhouette,
        any_value(n_iter) as n_iter,
        any_value(converged) as converged,
        any_value(init_method) as init_method,
        any_value(fit_sample_size) as fit_sample_size,
        any_value(n_init) as n_init,
        any_value(random_state) as random_state,
        any_value(id_assignment) as id_assignment
    from kmeans_fit

),

bootstrap as (

    select
        any_value(bootstrap_mean_ari) as bootstrap_mean_ari,
        any_value(bootstrap_resamples) as bootstrap_resamples,
        any_value(bootstrap_sample_size) as bootstrap_sample_size,
        any_value(bootstrap_n_init) as bootstrap_n_init,
        any_value(bootstrap_note) as bootstrap_note
    from segment_stability

),

ward as (

    select any_value(linkage_method) as linkage_method
    from ward_linkage

),

k_choice as (

    select
        k_rule,
        choice_reason
    from k_diagnostics
    where is_chosen

),

versions as (

    select
        max(case when component = 'python' then version end) as python_version,
        max(case when component = 'scikit-learn' then version end) as scikit_learn_version,
        max(case when component = 'scipy' then version end) as scipy_version,
        max(case when component = 'numpy' then version end) as numpy_version,
        max(case when component = 'duckdb' then version end) as duckdb_version,
        max(case when component = 'dbt-duckdb' then version end) as dbt_duckdb_version
    from environment

),

final as (

    select
        '{{ invocation_id }}' as run_id,
        cast('{{ run_started_at }}' as timestamp) as run_started_at,
        input_counts.input_source,
        input_counts.count_input_rows,
        input_counts.count_segmented_rows,
        input_counts.count_rejected_rows,
        fit.preset,
        features.feature_names,
        features.count_features,
        features.count_constant_features,
        fit.k,
        k_choice.k_rule,
        k_choice.choice_reason,
        fit.n_init,
        fit.random_state,
        fit.init_method,
        fit.fit_sample_size,
        fit.n_iter,
        fit.converged,
        fit.wcss,
        fit.silhouette,
        fit.id_assignment,
        ward.linkage_method as ward_linkage_method,
        versions.python_version,
        versions.scikit_learn_version,
        versions.scipy_version,
        versions.numpy_version,
        versions.duckdb_version,
        '{{ dbt_version }}' as dbt_version,
        versions.dbt_duckdb_version,
        '{{ spec.label | replace("'", "''") }}' as feature_set,
        '{{ spec.input_kind }}' as input_kind,
        customer_counts.count_segmented_customers,
        bootstrap.bootstrap_mean_ari,
        bootstrap.bootstrap_resamples,
        bootstrap.bootstrap_sample_size,
        bootstrap.bootstrap_n_init,
        bootstrap.bootstrap_note
    from input_counts
    cross join customer_counts
    cross join features
    cross join fit
    cross join k_choice
    cross join ward
    cross join versions
    cross join bootstrap

)

select * from final
