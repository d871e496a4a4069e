//! Each person's viewing settings in the console (wellness): how strongly images are blurred,
//! whether a revealed image stays greyscale, the exposure after which a break is suggested, and
//! whether explicit terms in ad text are masked.
//! Changing them is audited (`user.settings`), like every change to an account.

use crate::{Result, Store, StoreError, User};

/// One person's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ViewSettings {
    /// 1 (light) to 3 (heavy).
    pub blur: i64,
    /// Revealed images shown in greyscale.
    pub greyscale: bool,
    /// Ad pages in one session after which a break is suggested.
    pub break_items: i64,
    /// Images revealed in one session after which a break is suggested.
    pub break_images: i64,
    /// Explicit terms in ad text shown masked.
    pub mask_explicit: bool,
}

impl Default for ViewSettings {
    fn default() -> ViewSettings {
        ViewSettings {
            blur: 2,
            greyscale: true,
            break_items: 60,
            break_images: 10,
            mask_explicit: false,
        }
    }
}

impl ViewSettings {
    /// Checks the ranges; the message names the setting.
    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(StoreError::Invalid(m.to_owned()));
        if !(1..=3).contains(&self.blur) {
            return bad("blur is 1 (light), 2 or 3 (heavy)");
        }
        if !(1..=10_000).contains(&self.break_items) {
            return bad("the break after items is 1 to 10000");
        }
        if !(1..=1000).contains(&self.break_images) {
            return bad("the break after images is 1 to 1000");
        }
        Ok(())
    }
}

impl Store {
    /// The settings of the person with `user_id` (the defaults until they change them).
    pub async fn view_settings(&self, user_id: &str) -> Result<ViewSettings> {
        let row: Option<(i64, i64, i64, i64, i64)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT blur, greyscale, break_items, break_images, mask_explicit \
                 FROM user_settings WHERE user_id = $1",
            )
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map_or_else(
            ViewSettings::default,
            |(blur, grey, items, images, mask)| ViewSettings {
                blur,
                greyscale: grey != 0,
                break_items: items,
                break_images: images,
                mask_explicit: mask != 0,
            },
        ))
    }

    /// Saves `user`'s settings; audited as `user.settings` with the values.
    pub async fn set_view_settings(&self, user: &User, s: ViewSettings, now: i64) -> Result<()> {
        s.check()?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            sqlx::query(
                "INSERT INTO user_settings (user_id, blur, greyscale, break_items, break_images, \
                 mask_explicit, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (user_id) DO UPDATE SET \
                 blur = excluded.blur, greyscale = excluded.greyscale, \
                 break_items = excluded.break_items, break_images = excluded.break_images, \
                 mask_explicit = excluded.mask_explicit, updated_at = excluded.updated_at",
            )
            .bind(&user.id)
            .bind(s.blur)
            .bind(i64::from(s.greyscale))
            .bind(s.break_items)
            .bind(s.break_images)
            .bind(i64::from(s.mask_explicit))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::to_value(s).unwrap_or_default();
            append_audit!(
                tx,
                dialect,
                &user.actor(),
                "user.settings",
                user.id.as_str(),
                detail,
                now
            );
            tx.commit().await?;
            Ok(())
        })
    }
}
