//! The console's FIC writes go to the history journal (the embedded sandbox's, in memory), with
//! the value before and after, so `ficus history restore` can undo them.

use crate::tui_fixture;

use ficus::startup::history::{Change, History, Restore, restore_plan};
use ficus::tui::effects::Directory;

#[tokio::test]
async fn console_fic_writes_are_journaled_with_before_and_after() {
    let directory = tui_fixture::demo_directory(false).await;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    directory.sign_in(tx).await;
    let app = ficus::sandbox::seed::app_ids("contoso", "gov-exporter")
        .0
        .to_string();
    let detail = directory.app_detail(app.clone()).await.expect("detail");
    let fic = detail.fics[0].fic.clone();
    directory
        .delete_fic(app.clone(), fic.id.clone().expect("id"))
        .await
        .expect("deleted");

    let entries = History::sandbox().entries().expect("entries");
    let entry = entries
        .iter()
        .rev()
        .find(|e| e.app_object_id == app)
        .expect("the deletion is journaled");
    assert_eq!(entry.via, "console");
    assert_eq!(entry.app_display_name, "gov-exporter");
    assert_eq!(entry.who, tui_fixture::ADMIN);
    assert_eq!(
        entry.change,
        Change::FicDeleted {
            before: fic.clone()
        }
    );

    // Restoring it creates it again as it was (the console's create is journaled too).
    let Restore::Recreate(again) = restore_plan(entry).expect("restorable") else {
        panic!("a deletion is undone by creating the FIC again");
    };
    let created = directory
        .create_fic(app.clone(), again.clone())
        .await
        .expect("created");
    assert_eq!(created.subject, fic.subject);
    assert_eq!(created.audiences, fic.audiences);
    let entries = History::sandbox().entries().expect("entries");
    assert!(entries.iter().any(|e| e.app_object_id == app
        && matches!(&e.change, Change::FicCreated { after } if after.name == fic.name)));
}
