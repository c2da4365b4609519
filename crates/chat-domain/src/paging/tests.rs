//! Tests of the parent module.

use super::*;
use crate::ids::UserId;

fn chat(id: i64, name: &str) -> Chat {
    let t = Utc::now();
    Chat {
        id: ChatId::new(id).unwrap(),
        owner: UserId::new(1).unwrap(),
        name: name.into(),
        model: "m".into(),
        created_at: t,
        updated_at: t,
    }
}

#[test]
fn orders_parse_from_an_allow_list() {
    assert_eq!(
        "updated_at:desc,name:desc".parse::<ChatOrder>(),
        Ok(ChatOrder::default())
    );
    let order: ChatOrder = "name:asc".parse().unwrap();
    assert_eq!(order.to_string(), "name:asc");
    let order: ChatOrder = "updated_at:asc,name:desc".parse().unwrap();
    assert_eq!(order.to_string(), "updated_at:asc,name:desc");
    assert_eq!(order.id_direction(), Direction::Desc);
    for bad in [
        "",
        "name",
        "name:up",
        "password:asc",
        "name:asc,name:desc",
        "name:asc,",
        "NAME:asc",
    ] {
        assert_eq!(bad.parse::<ChatOrder>(), Err(InvalidOrder), "{bad}");
    }
}

#[test]
fn page_limits_are_bounded() {
    assert_eq!(PageLimit::new(0, 10), Err(PageLimitError::TooSmall));
    assert_eq!(PageLimit::new(10, 10).map(PageLimit::get), Ok(10));
    assert_eq!(
        PageLimit::new(11, 10),
        Err(PageLimitError::TooBig { max: 10 })
    );
    assert_eq!(
        PageLimit::new(u64::MAX, 10),
        Err(PageLimitError::TooBig { max: 10 })
    );
}

#[test]
fn a_page_knows_whether_more_follow() {
    let limit = PageLimit::new(2, 10).unwrap();
    let order: ChatOrder = "name:asc".parse().unwrap();
    let page = ChatPage::within(
        vec![chat(1, "a"), chat(2, "b"), chat(3, "c")],
        limit,
        ReadBudget::DEFAULT,
        &order,
    );
    assert_eq!(page.chats.len(), 2);
    let next = page.next.unwrap();
    assert_eq!(
        (next.keys, next.id.get()),
        (vec![SortKey::Text("b".into())], 2)
    );
    let last = ChatPage::within(
        vec![chat(1, "a"), chat(2, "b")],
        limit,
        ReadBudget::DEFAULT,
        &order,
    );
    assert_eq!(last.next, None);
}

#[test]
fn the_next_message_page_moves_one_bound_and_keeps_the_other() {
    let message = |id: i64| ChatMessage {
        id: MessageId::new(id),
        chat_id: ChatId::new(1).unwrap(),
        user_id: UserId::new(1).unwrap(),
        text: "x".into(),
        actor: crate::message::Actor::User,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    };
    let limit = PageLimit::new(2, 10).unwrap();
    let query = MessageListQuery {
        after: Some(MessageId::new(1)),
        before: Some(MessageId::new(9)),
        direction: Direction::Desc,
        limit,
    };
    let rows = vec![message(8), message(7), message(6)];
    let page = MessagePage::within(rows, limit, ReadBudget::DEFAULT);
    let next = page.next_query(&query).unwrap();
    assert_eq!(
        (next.after, next.before),
        (query.after, Some(MessageId::new(7)))
    );
    assert_eq!(next.bounds()[0], ("before", Some(MessageId::new(7))));
    let last = MessagePage::within(vec![message(8)], limit, ReadBudget::DEFAULT);
    assert_eq!(last.next_query(&query), None);
}

#[test]
fn cursors_must_fit_their_order() {
    let order: ChatOrder = "created_at:asc,name:desc".parse().unwrap();
    let mut cursor = ChatCursor::after(&chat(1, "a"), &order);
    assert!(cursor.fits());
    cursor.keys[0] = SortKey::Text("x".into());
    assert!(!cursor.fits());
    cursor.keys.truncate(1);
    assert!(!cursor.fits());
}

#[test]
fn a_store_reads_one_row_past_the_budget_and_no_more() {
    let budget = ReadBudget::new(3 * ReadBudget::cost(100)).unwrap();
    let texts = (0..10).map(|_| Ok::<_, ()>("x".repeat(100)));
    let read = ReadCount::read(budget, texts, String::len).unwrap();
    // Three fit the budget, the fourth passes it, one more comes, and no others are read.
    assert_eq!(read.len(), 5);
    // A row larger than the budget still comes, and one more after it.
    let huge = [
        Ok::<_, ()>("h".repeat(10_000)),
        Ok("a".into()),
        Ok("b".into()),
    ];
    assert_eq!(ReadCount::read(budget, huge, String::len).unwrap().len(), 2);
    let none: Vec<Result<String, ()>> = Vec::new();
    let read = ReadCount::read(budget, none, String::len).unwrap();
    assert!(read.is_empty());
    let failing = [Ok("a".to_owned()), Err("broken"), Ok("c".into())];
    assert_eq!(ReadCount::read(budget, failing, String::len), Err("broken"));
}
