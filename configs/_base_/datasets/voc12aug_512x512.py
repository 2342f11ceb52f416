# PASCAL VOC 2012 + SBD "aug" training set (10,582 images: mmseg's pascal_voc12_aug.py, which
# needs SegmentationClassAug/ and ImageSets/Segmentation/aug.txt, see mmseg's dataset docs),
# validated on VOC 2012 val. The paper trains on VOC train only (1,464 images); this split is
# optional.
_base_ = ['./voc12_512x512.py']

dataset_train = dict(
    type='PascalVOCDataset',
    data_root='data/VOCdevkit/VOC2012',
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    ann_file='ImageSets/Segmentation/train.txt',
    pipeline=_base_.train_pipeline)
dataset_aug = dict(
    type='PascalVOCDataset',
    data_root='data/VOCdevkit/VOC2012',
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
    ann_file='ImageSets/Segmentation/aug.txt',
    pipeline=_base_.train_pipeline)
train_dataloader = dict(
    dataset=dict(_delete_=True, type='ConcatDataset', datasets=[dataset_train, dataset_aug]))
