//! Each keyword's vector, kept per model in `keyword_embeddings`, so a second run embeds only keywords that
//! are new or were reworded since (the stored text must still match). Deleting a keyword deletes its vector.

use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Int8, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::keyword_embeddings as ke;
use crate::error::AppResult;

/// Little-endian f32s.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The vector stored as bytes; `None` when the length is not `dims` floats (another model's, or damaged).
pub fn from_bytes(b: &[u8], dims: usize) -> Option<Vec<f32>> {
    (b.len() == dims * 4).then(|| b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// The cached vectors of `items` (id, keyword text) for `model`, in the items' order; `None` where there is none
/// for that exact text.
pub async fn lookup(
    conn: &mut AsyncPgConnection,
    tenant_id: i64,
    model: &str,
    dims: usize,
    items: &[(i64, String)],
) -> AppResult<Vec<Option<Vec<f32>>>> {
    let mut found = std::collections::HashMap::with_capacity(items.len());
    for chunk in items.chunks(10_000) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let rows: Vec<(i64, String, Vec<u8>)> = ke::table
            .filter(ke::tenant_id.eq(tenant_id))
            .filter(ke::model.eq(model))
            .filter(ke::keyword_id.eq_any(&ids))
            .select((ke::keyword_id, ke::keyword, ke::vector))
            .load(conn)
            .await?;
        found.extend(rows.into_iter().map(|(id, text, bytes)| (id, (text, bytes))));
    }
    Ok(items
        .iter()
        .map(|(id, text)| match found.get(id) {
            Some((stored, bytes)) if stored == text => from_bytes(bytes, dims),
            _ => None,
        })
        .collect())
}

/// Stores (or replaces) vectors; keywords deleted meanwhile are skipped rather than failing the run.
pub async fn store(conn: &mut AsyncPgConnection, tenant_id: i64, model: &str, rows: &[(i64, String, Vec<f32>)]) -> AppResult<()> {
    for chunk in rows.chunks(1_000) {
        let ids: Vec<i64> = chunk.iter().map(|r| r.0).collect();
        let texts: Vec<&str> = chunk.iter().map(|r| r.1.as_str()).collect();
        let vectors: Vec<Vec<u8>> = chunk.iter().map(|r| to_bytes(&r.2)).collect();
        diesel::sql_query(
            "INSERT INTO keyword_embeddings (tenant_id, keyword_id, model, keyword, vector)
             SELECT $1, k.id, $2, v.keyword, v.vector
               FROM unnest($3::bigint[], $4::text[], $5::bytea[]) AS v(id, keyword, vector)
               JOIN keywords k ON k.tenant_id = $1 AND k.id = v.id
             ON CONFLICT (tenant_id, keyword_id, model)
             DO UPDATE SET keyword = EXCLUDED.keyword, vector = EXCLUDED.vector, created_at = now()",
        )
        .bind::<Int8, _>(tenant_id)
        .bind::<Text, _>(model)
        .bind::<Array<Int8>, _>(&ids)
        .bind::<Array<Text>, _>(&texts)
        .bind::<Array<Bytea>, _>(&vectors)
        .execute(conn)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        let v = vec![0.25f32, -1.5, 3.0e-7];
        assert_eq!(from_bytes(&to_bytes(&v), 3), Some(v));
        assert_eq!(from_bytes(&[0, 0, 0], 1), None);
        assert_eq!(from_bytes(&to_bytes(&[1.0, 2.0]), 3), None);
    }
}
