//! The nine SentEval tasks on the real files: counts per split and label as the data README
//! lists them, and a few exact texts. Skipped when the data is absent (see `testing`).

use dmlft_data::{load_task, DatasetSpec, Example, Task, TaskName, DEV, TEST, TRAIN};
use dmlft_testing::senteval_dir;

fn load(name: TaskName) -> Option<Task> {
    let root = senteval_dir()?;
    Some(load_task(&DatasetSpec::SentEval(name), &root).unwrap())
}

/// Counts per label (in label-id order) of one split.
fn counts(task: &Task, split: &str) -> Vec<usize> {
    task.label_counts(
        task.split(split)
            .unwrap_or_else(|| panic!("{} has no {split}", task.name)),
    )
}

#[test]
fn mr() {
    let Some(task) = load(TaskName::Mr) else {
        return;
    };
    assert_eq!(task.splits.len(), 1);
    assert_eq!(counts(&task, TRAIN), vec![5331, 5331]);
    let train = task.split(TRAIN).unwrap();
    assert_eq!(
        train[0].text,
        "the rock is destined to be the 21st century 's new `` conan `` and that he 's going to make a splash even greater than arnold schwarzenegger , jean-claud van damme or steven segal ."
    );
    assert_eq!(
        train.last().unwrap(),
        &Example::new(
            "enigma is well-made , but it 's just too dry and too placid .",
            0
        )
    );
    assert_eq!(train[0].label, 1, "positive file first, as SentEval");
    assert_eq!(train[5331].label, 0);
    assert!(
        train.iter().all(|e| !e.text.ends_with(' ')),
        "trailing space trimmed"
    );
}

#[test]
fn cr_keeps_its_blank_lines() {
    let Some(task) = load(TaskName::Cr) else {
        return;
    };
    assert_eq!(counts(&task, TRAIN), vec![1368, 2407]);
    let train = task.split(TRAIN).unwrap();
    // custrev.pos lines 2,323 and 2,407 and custrev.neg lines 769 and 1,368 are empty.
    assert_eq!(train[2322].text, "");
    assert_eq!(train[2406].text, "");
    assert_eq!(train[2407 + 768].text, "");
    assert_eq!(train[2407 + 1367].text, "");
    assert_eq!(train.iter().filter(|e| e.text.is_empty()).count(), 4);
}

#[test]
fn subj_objective_is_label_1() {
    let Some(task) = load(TaskName::Subj) else {
        return;
    };
    assert_eq!(task.label_names, vec!["subjective", "objective"]);
    assert_eq!(counts(&task, TRAIN), vec![5000, 5000]);
    assert_eq!(task.split(TRAIN).unwrap()[0].label, 1);
}

#[test]
fn mpqa_keeps_its_blank_lines() {
    let Some(task) = load(TaskName::Mpqa) else {
        return;
    };
    assert_eq!(counts(&task, TRAIN), vec![7294, 3312]);
    let train = task.split(TRAIN).unwrap();
    assert_eq!(train[3311].text, "", "mpqa.pos line 3,312");
    assert_eq!(train[3312 + 6414].text, "", "mpqa.neg line 6,415");
    assert_eq!(train[3312 + 7293].text, "", "mpqa.neg line 7,294");
    assert_eq!(train.iter().filter(|e| e.text.is_empty()).count(), 3);
}

#[test]
fn sst2() {
    let Some(task) = load(TaskName::Sst2) else {
        return;
    };
    assert_eq!(counts(&task, TRAIN), vec![29780, 37569]);
    assert_eq!(counts(&task, DEV), vec![428, 444]);
    assert_eq!(counts(&task, TEST), vec![912, 909]);
    let train = task.split(TRAIN).unwrap();
    assert_eq!(
        train[0],
        Example::new("hide new secretions from the parental units", 0)
    );
    assert_eq!(
        task.split(TEST).unwrap().last().unwrap(),
        &Example::new("dazzling and sugar-sweet , a blast of shallow magnificence that only sex , scandal , and a chorus line of dangerous damsels can deliver .", 1)
    );
}

#[test]
fn sst5() {
    let Some(task) = load(TaskName::Sst5) else {
        return;
    };
    assert_eq!(counts(&task, TRAIN), vec![1092, 2218, 1624, 2322, 1288]);
    assert_eq!(counts(&task, DEV), vec![139, 289, 229, 279, 165]);
    assert_eq!(counts(&task, TEST), vec![279, 633, 389, 510, 399]);
    let first = &task.split(TRAIN).unwrap()[0];
    assert_eq!(first.label, 4);
    assert!(first
        .text
        .starts_with("a stirring , funny and finally transporting re-imagining"));
}

#[test]
fn trec_with_the_latin1_byte() {
    let Some(task) = load(TaskName::Trec) else {
        return;
    };
    assert_eq!(
        task.label_names,
        vec!["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    );
    assert_eq!(counts(&task, TRAIN), vec![86, 1162, 1250, 1223, 835, 896]);
    assert_eq!(counts(&task, TEST), vec![9, 138, 94, 65, 81, 113]);
    let line66 = &task.split(TRAIN).unwrap()[65];
    assert_eq!(
        line66,
        &Example::new(
            "Which city has the oldest relationship as a sister\u{f0}city with Los Angeles ?",
            4
        )
    );
    assert_eq!(
        task.split(TEST).unwrap()[499],
        Example::new("What is e-coli ?", 1)
    );
    let non_ascii = task
        .split(TRAIN)
        .unwrap()
        .iter()
        .filter(|e| !e.text.is_ascii())
        .count();
    assert_eq!(non_ascii, 1);
}

#[test]
fn mrpc_pairs() {
    let Some(task) = load(TaskName::Mrpc) else {
        return;
    };
    assert_eq!(counts(&task, TRAIN), vec![1323, 2753]);
    assert_eq!(counts(&task, TEST), vec![578, 1147]);
    assert_eq!(
        task.split(TRAIN).unwrap()[0],
        Example::pair(
            "Amrozi accused his brother , whom he called \" the witness \" , of deliberately distorting his evidence .",
            "Referring to him as only \" the witness \" , Amrozi accused his brother of deliberately distorting his evidence .",
            1
        )
    );
}

#[test]
fn sick_e_with_crlf_test() {
    let Some(task) = load(TaskName::SickE) else {
        return;
    };
    assert_eq!(counts(&task, TRAIN), vec![665, 2536, 1299]);
    assert_eq!(counts(&task, DEV), vec![74, 282, 144]);
    assert_eq!(counts(&task, TEST), vec![720, 2793, 1414]);
    let test = task.split(TEST).unwrap();
    assert!(test
        .iter()
        .all(|e| !e.text.contains('\r') && !e.text_pair.as_deref().unwrap().contains('\r')));
    assert_eq!(
        test[0],
        Example::pair(
            "There is no boy playing outdoors and there is no man smiling",
            "A group of kids is playing in a yard and an old man is standing in the background",
            1
        )
    );
}
