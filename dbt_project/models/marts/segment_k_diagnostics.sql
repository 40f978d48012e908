with

k_diagnostics as (

    select * from {{ ref('ml_k_diagnostics') }}

),

final as (

    select
        k,
        wcss,
        silhouette,
        calinski_harabasz,
        davies_bouldin,
        n_iter,
        converged,
        best_from,
        silhouette_sample_size,
        diagnostics_sample_size,
        is_best_silhouette,
        is_elbow,
        is_chosen,
        k_rule,
        choice_reason,
        n_init,
        random_state,
        wcss / first_value(wcss) over (order by k) as share_of_total_sum_of_squares
    from k_diagnostics

)

select * from final
